import Events
import Yams

/// Reading the service's sections: `server`, `receivers`, and a repository's `forge`.
extension ConfigurationLoader {
    mutating func readServer(_ node: Node) {
        guard
            let server = reader.mapping(
                node, "server", known: ["listen", "port", "maxBodyBytes", "maxConnections", "headerTimeoutSeconds", "admin"])
        else { return }
        if let adminNode = server["admin"]?.value,
            let admin = reader.mapping(adminNode, "server.admin", known: ["listen", "port", "token", "requireTokenForReads"])
        {
            if let listen = admin["listen"], let value = reader.string(listen.value, "server.admin.listen") {
                configuration.server.admin.listen = value
            }
            if let port = admin["port"], let value = reader.integer(port.value, "server.admin.port", minimum: 0, maximum: 65535) {
                configuration.server.admin.port = value
            }
            if let token = admin["token"] {
                configuration.server.admin.token = readSecret(token.value, "server.admin.token", minimumLength: Receiver.minimumSecretLength)
            }
            if let reads = admin["requireTokenForReads"]?.value, let flag = reader.flag(reads, "server.admin.requireTokenForReads") {
                configuration.server.admin.requireTokenForReads = flag
            }
        }
        if let listen = server["listen"], let value = reader.string(listen.value, "server.listen") { configuration.server.listen = value }
        if let port = server["port"], let value = reader.integer(port.value, "server.port", minimum: 0) {
            if value > 65535 {
                reader.report(port.value, "server.port", "a port is at most 65535")
            } else {
                configuration.server.port = value
            }
        }
        if let body = server["maxBodyBytes"], let value = reader.integer(body.value, "server.maxBodyBytes", minimum: 1) {
            configuration.server.maximumBodyBytes = value
        }
        if let connections = server["maxConnections"], let value = reader.integer(connections.value, "server.maxConnections", minimum: 1) {
            configuration.server.maximumConnections = value
        }
        if let timeout = server["headerTimeoutSeconds"],
            let value = reader.integer(timeout.value, "server.headerTimeoutSeconds", minimum: 1)
        {
            configuration.server.headerTimeoutSeconds = value
        }
    }

    mutating func readReceiver(_ node: Node, _ path: String) {
        guard
            let fields = reader.mapping(
                node, path, known: ["name", "type", "secret", "header", "registryHost", "nexusHosts", "audience", "serviceAccount", "jwksURL"])
        else {
            return
        }
        guard let nameNode = fields["name"]?.value, let name = reader.string(nameNode, "\(path).name") else {
            return reader.report(node, "\(path).name", "every receiver needs a name; it is the last part of its URL /hooks/NAME")
        }
        guard let typeNode = fields["type"]?.value, let typeName = reader.string(typeNode, "\(path).type") else {
            return reader.report(node, "\(path).type", "name the sender: \(Receiver.typeNames)")
        }
        guard let type = ReceiverType(rawValue: typeName) else {
            return reader.report(
                typeNode, "\(path).type", "\"\(typeName)\" is not a sender imagebump knows; use one of \(Receiver.typeNames)")
        }
        let audience = fields["audience"].flatMap { reader.string($0.value, "\(path).audience") }
        if audience != nil, type != .gcr {
            reader.report(fields["audience"]?.value, "\(path).audience", "audience (an OIDC token's) is for gcr receivers of Pub/Sub push only")
        }
        if type == .gcr, let audience, fields["secret"] == nil {
            // Pub/Sub push with an OIDC token: Google signs it; there is no shared secret.
            var receiver = Receiver(name: name, type: type, secret: nil)
            receiver.audience = audience
            receiver.serviceAccount = fields["serviceAccount"].flatMap { reader.string($0.value, "\(path).serviceAccount") }
            receiver.jwksURL = fields["jwksURL"].flatMap { reader.string($0.value, "\(path).jwksURL") }
            if receiver.serviceAccount == nil {
                reader.report(
                    node, "\(path).serviceAccount",
                    "name the service account the subscription pushes as (its OIDC token's email): any Google-signed token for this audience would do otherwise")
            }
            if configuration.receivers.contains(where: { $0.name == name }) {
                reader.report(nameNode, "\(path).name", "the receiver name \"\(name)\" is used twice; names must be unique")
            }
            configuration.receivers.append(receiver)
            return
        }
        guard let secretNode = fields["secret"]?.value else {
            let what =
                type.usesPathToken
                ? "\(type) cannot sign: give a random token of at least 32 characters (secret: env:NAME); it goes in the URL /hooks/\(name)/TOKEN"
                : "every receiver needs a secret (env:NAME or file:PATH): unauthenticated receivers are refused"
            return reader.report(node, "\(path).secret", what)
        }
        // Guessable in a few tries otherwise: a 1-character bearer token was.
        let minimum = type.usesPathToken ? 32 : Receiver.minimumSecretLength
        guard let secret = readSecret(secretNode, "\(path).secret", minimumLength: minimum) else { return }
        if type.usesPathToken, let value = try? secret.resolve().revealed,
            let weakness = Receiver.pathTokenWeakness(value)
        {
            reader.report(secretNode, "\(path).secret", weakness)
        }
        var receiver = Receiver(name: name, type: type, secret: secret)
        receiver.header = fields["header"].flatMap { reader.string($0.value, "\(path).header") }
        receiver.registryHost = fields["registryHost"].flatMap { reader.string($0.value, "\(path).registryHost") }
        if let hosts = fields["nexusHosts"]?.value {
            if case .mapping(let mapping) = hosts {
                for (key, value) in mapping {
                    if let repository = key.string, let host = value.string { receiver.nexusHosts[repository] = host }
                }
            } else {
                reader.report(hosts, "\(path).nexusHosts", "expected a mapping of Nexus repository → registry host:port")
            }
        }
        if configuration.receivers.contains(where: { $0.name == name }) {
            reader.report(nameNode, "\(path).name", "the receiver name \"\(name)\" is used twice; names must be unique")
        }
        configuration.receivers.append(receiver)
    }

    mutating func readForge(_ node: Node, _ path: String) -> ForgeSettings? {
        guard let fields = reader.mapping(node, path, known: ["type", "api", "project", "token", "app", "username"]) else { return nil }
        guard let typeNode = fields["type"]?.value, let kind = reader.choice(typeNode, "\(path).type", as: ForgeSettings.Kind.self) else {
            if fields["type"] == nil { reader.report(node, "\(path).type", "name the forge: github, gitlab or gitea") }
            return nil
        }
        guard let projectNode = fields["project"]?.value, let project = reader.string(projectNode, "\(path).project") else {
            reader.report(node, "\(path).project", "name the repository on the forge (owner/name, or the GitLab project path)")
            return nil
        }
        var app: (id: String, installation: String, privateKey: SecretReference)?
        if let appNode = fields["app"]?.value,
            let appFields = reader.mapping(appNode, "\(path).app", known: ["id", "installation", "privateKey"])
        {
            let id = appFields["id"].flatMap { reader.string($0.value, "\(path).app.id") }
            let installation = appFields["installation"].flatMap { reader.string($0.value, "\(path).app.installation") }
            let key = appFields["privateKey"].flatMap { readSecret($0.value, "\(path).app.privateKey") }
            if let id, let installation, let key {
                app = (id, installation, key)
            } else {
                reader.report(appNode, "\(path).app", "a GitHub App needs id, installation and privateKey: file:PATH")
            }
            if kind != .github { reader.report(appNode, "\(path).app", "App authentication is GitHub's; give \(kind.rawValue) a token") }
        }
        let token = fields["token"].flatMap { readSecret($0.value, "\(path).token") }
        if token == nil, app == nil, fields["token"] == nil, fields["app"] == nil {
            reader.report(node, "\(path).token", "the forge needs a token: env:NAME or file:PATH (or, for GitHub, an app)")
            return nil
        }
        let api = fields["api"].flatMap { reader.string($0.value, "\(path).api") } ?? ForgeSettings.defaultAPI(kind)
        guard let api else {
            reader.report(node, "\(path).api", "a \(kind.rawValue) forge needs api: https://HOST/api/v1")
            return nil
        }
        if !api.hasPrefix("https://"), !api.hasPrefix("http://") {
            reader.report(fields["api"]?.value ?? node, "\(path).api", "the API URL must start with https://")
        }
        var settings = ForgeSettings(kind: kind, api: api, project: project, token: token, app: app)
        if let node = fields["username"]?.value, let username = reader.string(node, "\(path).username") {
            if kind == .bitbucket {
                settings.username = username
            } else {
                reader.report(node, "\(path).username", "username is for Bitbucket's app passwords and API tokens; \(kind.rawValue) takes the token alone")
            }
        }
        return settings
    }
}
