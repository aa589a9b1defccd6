/// How imagebump reads one registry (`registries[]`): for polling (`images[].poll`) and for
/// checking webhooks against it (`images[].verify`). A registry that is not listed is read
/// anonymously over HTTPS.
public struct RegistrySettings: Sendable, Hashable {
    /// `ghcr.io`, `registry.internal:5000`; `docker.io` stands for Docker Hub.
    public var host: String
    /// With `password`: basic credentials, sent to the registry's token endpoint (bearer
    /// flow) or to the registry itself (basic flow).
    public var username: String?
    /// A secret, re-read at every token request (an ECR password a sidecar rewrites works).
    public var password: SecretReference?
    /// A PEM bundle of certificate authorities for a private CA (verification is always on).
    public var caBundle: String?
    /// Plain HTTP: only when said explicitly (test and lab registries).
    public var insecure = false

    public init(host: String) { self.host = host }
}

extension Configuration {
    /// The settings for a registry host (anonymous HTTPS when it is not listed).
    public func registry(_ host: String) -> RegistrySettings {
        registries.first { $0.host == host } ?? RegistrySettings(host: host)
    }

    /// The images that are polled, with their interval in seconds.
    public var polledImages: [(image: ImageSettings, seconds: Int)] {
        images.compactMap { image in
            let seconds = image.pollSeconds ?? pollIntervalSeconds
            return seconds > 0 ? (image, seconds) : nil
        }
    }
}
