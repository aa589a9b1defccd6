import Configuration
import Events
import Logging

extension ReceiverSettings {
    /// A configured receiver, its secret resolved (or, for Pub/Sub push with OIDC, its
    /// Google key set to verify tokens with).
    public init(_ receiver: Receiver, logger: Logger) throws(SetupFailure) {
        let context = ReceiverContext(registryHost: receiver.registryHost, nexusHosts: receiver.nexusHosts)
        if let audience = receiver.audience {
            var settings = OIDCSettings(audience: audience, serviceAccount: receiver.serviceAccount)
            if let url = receiver.jwksURL { settings.jwksURL = url }
            self.init(name: receiver.name, type: receiver.type, secret: .init(value: ""), context: context, oidc: JWKS(settings: settings, logger: logger))
            return
        }
        guard let secret = receiver.secret else { throw SetupFailure("receiver \(receiver.name) has no secret") }
        let value: String
        do { value = try secret.resolve().revealed } catch { throw SetupFailure("receiver \(receiver.name): \(error)") }
        if receiver.type.usesPathToken, let weakness = Receiver.pathTokenWeakness(value) {
            throw SetupFailure("receiver \(receiver.name) (secret \(secret)): \(weakness)")
        }
        self.init(name: receiver.name, type: receiver.type, secret: .init(value: value, header: receiver.header), context: context)
    }
}
