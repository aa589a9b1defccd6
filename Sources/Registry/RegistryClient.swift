import Configuration
import Crypto
import Foundation
import HTTPClient
import ImageReference
import Synchronization

/// Reads one registry through the Distribution (OCI) API v2: the tags of a repository (every
/// page) and the digest a tag points at. Authenticates as the registry asks: anonymously,
/// with basic credentials, or through the bearer-token flow (`WWW-Authenticate: Bearer
/// realm=…,service=…,scope=…`), each token kept for its repository scope until it expires.
public struct RegistryClient: Sendable {
    /// What imagebump asks a manifest `HEAD` for: an index or manifest list first, so that a
    /// multi-arch tag answers with its index digest.
    static let manifestTypes = [
        "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    ].joined(separator: ", ")
    /// Pages of one tags list, at most (a registry that keeps answering "next" is cut off).
    static let maximumPages = 1000

    public let settings: RegistrySettings
    /// `https://registry-1.docker.io` for Docker Hub, `http://…` only for `insecure` registries.
    public let base: String
    let transport: any HTTPTransport
    let tokens: TokenCache
    let rateLimit = RateLimitWindow()
    /// Told of every answer (host, status or failure, duration) — the metrics.
    let observe: MeasuringTransport.Observer

    /// - Parameters:
    ///   - transport: how requests are sent; nil: libcurl with the registry's CA bundle,
    ///     retrying 429 and 5xx as the registry says (`Retry-After`), at most 60 s per wait.
    public init(
        settings: RegistrySettings, transport: (any HTTPTransport)? = nil,
        observe: @escaping MeasuringTransport.Observer = { _, _, _ in }
    ) {
        self.settings = settings
        let host = settings.host == ImageName.dockerHub ? "registry-1.docker.io" : settings.host
        base = "\(settings.insecure ? "http" : "https")://\(host)"
        self.transport =
            transport
            ?? RetryingTransport(
                CurlClient(settings: HTTPClientSettings(totalTimeout: .seconds(30), caBundle: settings.caBundle)),
                policy: RetryPolicy(attempts: 4, maximumDelay: .seconds(60)))
        tokens = TokenCache()
        self.observe = observe
    }

    /// Every tag of `repository` (the path, e.g. `acme/api`; `library/nginx` on Docker Hub),
    /// following `Link: <…>; rel="next"` pages.
    public func tags(_ repository: String) async throws(RegistryError) -> [String] {
        var tags: [String] = []
        var next: String? = "/v2/\(repository)/tags/list?n=1000"
        var pages = 0
        while let path = next {
            pages += 1
            guard pages <= Self.maximumPages else {
                throw RegistryError(.unexpectedResponse, "\(settings.host)/\(repository): more than \(Self.maximumPages) pages of tags; stopped reading")
            }
            let response = try await send("GET", path, repository: repository, headers: [("Accept", "application/json")])
            guard response.status == 200 else { throw failure(response, repository, "listing tags") }
            struct Page: Decodable { let tags: [String]? }
            guard let page = try? JSONDecoder().decode(Page.self, from: Data(response.body)) else {
                throw RegistryError(.unexpectedResponse, "\(settings.host)/\(repository): the tags list is not the JSON the Distribution API defines")
            }
            tags += page.tags ?? []
            next = response.header("link").flatMap(Self.nextPage)
        }
        return tags
    }

    /// The digest `reference` (a tag or a digest) points at — for a multi-arch tag, its index's
    /// — or nil when the registry has no such manifest.
    public func digest(_ repository: String, reference: String) async throws(RegistryError) -> Digest? {
        let path = "/v2/\(repository)/manifests/\(reference)"
        var response = try await send("HEAD", path, repository: repository, headers: [("Accept", Self.manifestTypes)])
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw failure(response, repository, "reading the manifest of \(reference)") }
        if let header = response.header("docker-content-digest"), let digest = try? Digest(parsing: header) { return digest }
        // No digest header (some registries on HEAD): the manifest's own bytes say it.
        response = try await send("GET", path, repository: repository, headers: [("Accept", Self.manifestTypes)])
        guard response.status == 200 else { throw failure(response, repository, "reading the manifest of \(reference)") }
        let hex = HMAC.digest(response.body).map { String(format: "%02x", $0) }.joined()
        return try? Digest(parsing: "sha256:\(hex)")
    }

    /// The `rel="next"` target of a `Link` header, as a path (or absolute URL).
    static func nextPage(_ link: String) -> String? {
        for part in link.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }

    func failure(_ response: HTTPResponse, _ repository: String, _ doing: String) -> RegistryError {
        let name = "\(settings.host)/\(repository)"
        switch response.status {
        case 401, 403:
            let credentials = settings.username == nil ? "no credentials are configured" : "the credentials of registries[\(settings.host)] were refused"
            return RegistryError(.unauthorized, "\(name): \(doing): the registry answered \(response.status) (\(credentials)); check registries[].username and password")
        case 404:
            return RegistryError(.notFound, "\(name): \(doing): the registry has no such repository (or the credentials may not see it)")
        case 429:
            return RegistryError(.rateLimited, "\(name): \(doing): rate limited (429); the next round tries again")
        default:
            return RegistryError(.unexpectedResponse, "\(name): \(doing): the registry answered \(response.status)")
        }
    }
}
