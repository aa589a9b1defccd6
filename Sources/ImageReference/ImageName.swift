/// A normalised image repository: registry domain plus path, without tag or digest.
///
/// Normalisation follows Docker's rules so that every spelling of one repository compares equal:
/// `nginx` → `docker.io/library/nginx`, `user/app` → `docker.io/user/app`,
/// `index.docker.io/x` and `registry-1.docker.io/x` → `docker.io/x`.
public struct ImageName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The registry host with optional port, e.g. `ghcr.io`, `localhost:5000`, `docker.io`.
    public let domain: String
    /// The repository path inside the registry, e.g. `acme/api`, `library/nginx`.
    public let path: String

    /// The Docker Hub domain every Hub alias normalises to.
    public static let dockerHub = "docker.io"
    static let maximumLength = 255

    /// Parses and normalises a repository name that carries no tag and no digest.
    public init(parsing text: some StringProtocol) throws(ImageReferenceError) {
        let reference = try ImageReference(parsing: text)
        guard reference.tag == nil, reference.digest == nil else {
            throw ImageReferenceError(
                .invalidPathComponent, input: String(text),
                reason: "a repository name carries no tag or digest; drop the part after ':' or '@'")
        }
        self = reference.name
    }

    init(domain: String, path: String) {
        self.domain = domain
        self.path = path
    }

    public var description: String { "\(domain)/\(path)" }

    /// The shortest spelling Docker accepts: `nginx` for `docker.io/library/nginx`.
    public var familiar: String {
        guard domain == Self.dockerHub else { return description }
        if path.hasPrefix("library/"), !path.dropFirst(8).contains("/") { return String(path.dropFirst(8)) }
        // `docker.io/a.b/c` must keep its domain, or `a.b` would be read as the registry.
        let first = path.prefix { $0 != "/" }
        if first.contains(".") || first.contains(":") || first == "localhost" { return description }
        return path
    }

    public static func < (lhs: ImageName, rhs: ImageName) -> Bool { lhs.description < rhs.description }
}
