import Configuration
import HTTPClient
import ImageReference
import Registry
import Synchronization
import Workers

/// One client per registry host, built from `registries[]` (anonymous HTTPS for hosts not
/// listed), so that tokens are shared by every image of a registry. Counts every request by
/// host and status (`imagebump_registry_requests_total`).
public final class Registries: Sendable {
    let configuration: Configuration
    let metrics: ServiceMetrics
    let transport: (any HTTPTransport)?
    private let clients = Mutex<[String: RegistryClient]>([:])

    /// - Parameter transport: for tests; nil is libcurl.
    public init(_ configuration: Configuration, metrics: ServiceMetrics = .disabled, transport: (any HTTPTransport)? = nil) {
        self.configuration = configuration
        self.metrics = metrics
        self.transport = transport
    }

    /// The client for `image`'s registry.
    public func client(for image: ImageName) -> RegistryClient {
        clients.withLock { clients in
            if let client = clients[image.domain] { return client }
            let client = RegistryClient(
                settings: configuration.registry(image.domain), transport: transport, observe: metrics.observer("registry"))
            clients[image.domain] = client
            return client
        }
    }
}
