import Foundation
import ImageReference
import Manifests
import Yams

extension Configuration {
    /// Reads and validates a configuration file; throws every problem found, each with
    /// file:line:column, the key path and what to do.
    public static func load(path: String) throws(ConfigError) -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(problems: [
                ConfigProblem(
                    file: path, line: 1, column: 1, keyPath: "", message: "the file cannot be read; check the path given to --config")
            ])
        }
        let text = String(decoding: data, as: UTF8.self)
        let meaningful = text.split(separator: "\n").contains { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#") && trimmed != "---"
        }
        guard meaningful else {
            throw ConfigError(problems: [
                ConfigProblem(
                    file: path, line: 1, column: 1, keyPath: "",
                    message: "the file is empty; start from config/imagebump.yaml (repos, targets, images, receivers)")
            ])
        }
        return try parse(text, file: path)
    }

    /// Parses and validates configuration text; `file` names it in problems.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var (line, column, message) = Self.locate(error)
            if let duplicate = Self.duplicateKey(message, in: text) { (line, column, message) = duplicate }
            throw ConfigError(problems: [
                ConfigProblem(file: file, line: line, column: column, keyPath: "", message: "not valid YAML: \(message)")
            ])
        } catch {
            throw ConfigError(problems: [ConfigProblem(file: file, line: 1, column: 1, keyPath: "", message: "not valid YAML: \(error)")])
        }
        var loader = ConfigurationLoader(reader: NodeReader(file: file))
        if let root { loader.read(root) }
        loader.crossCheck()
        loader.crossCheckPromotions()
        guard loader.reader.problems.isEmpty else {
            throw ConfigError(problems: loader.reader.problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return loader.configuration
    }

    /// Yams reports a duplicated key at the start of its mapping: the second occurrence, where
    /// the fix is, is found in the text (the first line after the first that writes the key at
    /// the same indentation).
    static func duplicateKey(_ message: String, in text: String) -> (Int, Int, String)? {
        guard let range = message.range(of: "duplicated key(s): '"), let end = message[range.upperBound...].firstIndex(of: "'") else {
            return nil
        }
        let key = String(message[range.upperBound..<end])
        var first: Int?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var body = Substring(line)
            var indent = 0
            while body.first == " " || body.first == "-" { body = body.dropFirst(); indent += 1 }
            guard body.hasPrefix(key), body.dropFirst(key.count).trimmingCharacters(in: .whitespaces).hasPrefix(":") else { continue }
            if let first, first == indent {
                return (index + 1, indent + 1, "the key \(key) is given twice in one mapping (the first stands above); keep one")
            }
            if first == nil { first = indent }
        }
        return nil
    }

    private static func locate(_ error: YamlError) -> (Int, Int, String) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return (mark.line, mark.column, problem)
        default:
            return (1, 1, "\(error)")
        }
    }
}

/// Builds a ``Configuration`` from YAML nodes, remembering where each name stood so that
/// cross-reference problems (an unknown repo, a duplicate name) are located too.
struct ConfigurationLoader {
    var reader: NodeReader
    var configuration = Configuration()
    /// Where each accepted entry's fields stood: the node and its key path (e.g. `images[1].targets`).
    var nodes: [String: (node: Node, path: String)] = [:]

    mutating func read(_ root: Node) {
        guard
            let top = reader.mapping(
                root, "",
                known: [
                    "stateDir", "log", "scan", "server", "receivers", "workers", "repos", "targets", "images", "promotions", "registries", "journal", "git"])
        else { return }
        if let node = top["server"]?.value { readServer(node) }
        if let node = top["receivers"]?.value {
            for (index, item) in reader.list(node, "receivers").enumerated() { readReceiver(item, "receivers[\(index)]") }
        }
        if let node = top["workers"]?.value,
            let workers = reader.mapping(node, "workers", known: ["attempts", "batchWindowMs", "mergePollSeconds", "retryBudgetSeconds", "pollInterval"])
        {
            // Capped: past 20 tries the doubling waits are all at their 5-minute cap anyway.
            if let attempts = workers["attempts"], let value = reader.integer(attempts.value, "workers.attempts", minimum: 1, maximum: 20) {
                configuration.workerAttempts = value
            }
            if let budget = workers["retryBudgetSeconds"],
                let value = reader.integer(budget.value, "workers.retryBudgetSeconds", minimum: 10, maximum: 86_400)
            {
                configuration.retryBudgetSeconds = value
            }
            if let window = workers["batchWindowMs"], let value = reader.integer(window.value, "workers.batchWindowMs", minimum: 0) {
                configuration.batchWindowMilliseconds = value
            }
            if let poll = workers["mergePollSeconds"], let value = reader.integer(poll.value, "workers.mergePollSeconds", minimum: 0) {
                configuration.mergePollSeconds = value
            }
            if let poll = workers["pollInterval"], let value = readInterval(poll.value, "workers.pollInterval") {
                configuration.pollIntervalSeconds = value
            }
        }
        if let node = top["promotions"]?.value {
            for (index, item) in reader.list(node, "promotions").enumerated() { readPromotion(item, "promotions[\(index)]") }
        }
        if let node = top["stateDir"]?.value, let value = reader.string(node, "stateDir") { configuration.stateDirectory = value }
        if let node = top["git"]?.value { readGit(node) }
        if let node = top["log"]?.value, let log = reader.mapping(node, "log", known: ["level", "format"]) {
            if let level = log["level"] {
                if let text = reader.string(level.value, "log.level") {
                    if LogSettings.levels.contains(text) {
                        configuration.log.level = text
                    } else {
                        reader.report(
                            level.value, "log.level", "\"\(text)\" is not a level; use one of \(LogSettings.levels.joined(separator: ", "))"
                        )
                    }
                }
            }
            if let format = log["format"], let value = reader.choice(format.value, "log.format", as: LogSettings.Format.self) {
                configuration.log.format = value
            }
        }
        if let node = top["scan"]?.value, let scan = reader.mapping(node, "scan", known: ["maxFileSize", "maxYAMLNodes"]) {
            if let size = scan["maxFileSize"], let value = reader.integer(size.value, "scan.maxFileSize", minimum: 1) {
                configuration.scan.maximumFileSize = value
            }
            if let nodes = scan["maxYAMLNodes"], let value = reader.integer(nodes.value, "scan.maxYAMLNodes", minimum: 1) {
                configuration.scan.maximumYAMLNodes = value
            }
        }
        if let node = top["journal"]?.value, let journal = reader.mapping(node, "journal", known: ["keepDays", "url", "password", "leaseSeconds"]) {
            if let url = journal["url"], let text = reader.string(url.value, "journal.url") {
                if text.hasPrefix("env:") || text.hasPrefix("file:") {
                    configuration.journal.urlSecret = readSecret(url.value, "journal.url")  // from a Secret; checked when resolved
                } else if let problem = PostgresURL.problem(text) {
                    reader.report(url.value, "journal.url", problem)
                } else {
                    configuration.journal.url = text
                }
            }
            if let lease = journal["leaseSeconds"], let value = reader.integer(lease.value, "journal.leaseSeconds", minimum: 2, maximum: 300) {
                configuration.journal.leaseSeconds = value
            }
            if let password = journal["password"] {
                configuration.journal.password = readSecret(password.value, "journal.password")
                if journal["url"] == nil { reader.report(password.value, "journal.password", "a password needs journal.url (the PostgreSQL database it is for)") }
            }
            if let keep = journal["keepDays"], let value = reader.integer(keep.value, "journal.keepDays", minimum: 1, maximum: 36_500) {
                configuration.journal.keepDays = value
                if value < 30 {
                    configuration.warnings.append(
                        ConfigProblem(
                            file: reader.file, line: keep.value.mark?.line ?? 1, column: keep.value.mark?.column ?? 1, keyPath: "journal.keepDays",
                            message: "a delivery is recognised as a repeat for 30 days only while its event is kept: with \(value) days a replay older than that runs again"))
                }
            }
        }
        if let node = top["registries"]?.value {
            for (index, item) in reader.list(node, "registries").enumerated() { readRegistry(item, "registries[\(index)]") }
        }
        if let node = top["repos"]?.value {
            for (index, item) in reader.list(node, "repos").enumerated() { readRepository(item, "repos[\(index)]") }
        }
        if let node = top["targets"]?.value {
            for (index, item) in reader.list(node, "targets").enumerated() { readTarget(item, "targets[\(index)]") }
        }
        if let node = top["images"]?.value {
            for (index, item) in reader.list(node, "images").enumerated() { readImage(item, "images[\(index)]") }
        }
    }

    private mutating func readGit(_ node: Node) {
        let section = "git"
        guard let git = reader.mapping(node, section, known: ["author", "committer", "subject", "caBundle", "pushAttempts", "timeoutSeconds", "signingKey"]) else { return }
        for role in ["author", "committer"] {
            guard let entry = git[role]?.value, let person = reader.mapping(entry, "git.\(role)", known: ["name", "email"]) else {
                continue
            }
            let name = person["name"].flatMap { reader.string($0.value, "git.\(role).name") }
            var email = person["email"].flatMap { reader.string($0.value, "git.\(role).email") }
            if let value = email, !value.contains("@"), let emailNode = person["email"]?.value {
                reader.report(emailNode, "git.\(role).email", "\"\(value)\" is not an e-mail address; write name@domain")
                email = nil
            }
            if role == "author" {
                if let name { configuration.git.authorName = name }
                if let email { configuration.git.authorEmail = email }
            } else {
                configuration.git.committerName = name
                configuration.git.committerEmail = email
            }
        }
        if let subject = git["subject"], let value = reader.string(subject.value, "git.subject") { configuration.git.subject = value }
        if let bundle = git["caBundle"], let value = reader.string(bundle.value, "git.caBundle") {
            if !FileManager.default.fileExists(atPath: value) {
                reader.report(
                    bundle.value, "git.caBundle",
                    "the file \(value) does not exist; give the path of a PEM bundle of certificate authorities")
            }
            configuration.git.caBundle = value
        }
        if let timeout = git["timeoutSeconds"], let value = reader.integer(timeout.value, "git.timeoutSeconds", minimum: 1, maximum: 3600) {
            configuration.git.timeoutSeconds = value
        }
        if let attempts = git["pushAttempts"], let value = reader.integer(attempts.value, "git.pushAttempts", minimum: 1) {
            configuration.git.pushAttempts = value
        }
        if let key = git["signingKey"] { configuration.git.signingKey = readSecret(key.value, "git.signingKey") }
    }

    private mutating func readRepository(_ node: Node, _ path: String) {
        guard
            let fields = reader.mapping(
                node, path,
                known: ["name", "url", "branch", "username", "password", "sshKey", "knownHosts", "acceptUnknownHostKeys", "forge"])
        else { return }
        guard let nameNode = fields["name"]?.value, let name = reader.string(nameNode, "\(path).name") else {
            return reader.report(node, "\(path).name", "every repository needs a name; add name: env")
        }
        guard let urlNode = fields["url"]?.value, let url = reader.string(urlNode, "\(path).url") else {
            return reader.report(node, "\(path).url", "every repository needs a url (a path, file://, https:// or ssh://)")
        }
        if let scheme = url.range(of: "://").map({ url[..<$0.lowerBound] }), !["file", "https", "http", "ssh"].contains(scheme) {
            reader.report(urlNode, "\(path).url", "the scheme \"\(scheme)\" is not supported; use a path, file://, https:// or ssh://")
        }
        if url.contains("://"), let at = url.firstIndex(of: "@"), let schemeEnd = url.range(of: "://"), at > schemeEnd.upperBound,
            url[schemeEnd.upperBound..<at].contains(":")
        {
            reader.report(urlNode, "\(path).url", "the URL carries a password; move it to password: env:NAME")
        }
        var repository = Repository(name: name, url: url)
        if let branch = fields["branch"], let value = reader.string(branch.value, "\(path).branch") { repository.branch = value }
        if let user = fields["username"], let value = reader.string(user.value, "\(path).username") { repository.username = value }
        repository.password = fields["password"].flatMap { readSecret($0.value, "\(path).password") }
        repository.sshKey = fields["sshKey"].flatMap { readSecret($0.value, "\(path).sshKey") }
        if let hosts = fields["knownHosts"], let value = reader.string(hosts.value, "\(path).knownHosts") { repository.knownHosts = value }
        if let accept = fields["acceptUnknownHostKeys"], let flag = reader.flag(accept.value, "\(path).acceptUnknownHostKeys") {
            repository.acceptUnknownHostKeys = flag
        }
        if let forge = fields["forge"] { repository.forge = readForge(forge.value, "\(path).forge") }
        if url.hasPrefix("ssh://") || (url.contains("@") && !url.contains("://")) {
            if repository.sshKey == nil {
                reader.report(urlNode, "\(path).url", "an SSH remote needs sshKey: file:PATH (or env:NAME) with the private key")
            }
        } else if repository.password != nil, repository.username == nil {
            reader.report(urlNode, "\(path).username", "a password or token needs a username (any name works for most forges' tokens)")
        }
        configuration.repos.append(repository)
        nodes["repo:\(configuration.repos.count - 1)"] = (nameNode, "\(path).name")
    }

    /// Reads `env:NAME`/`file:PATH` and remembers where it stood, so that ``Configuration/secretProblems()``
    /// can say which secret is unset or too short; `minimumLength` counts non-whitespace bytes.
    mutating func readSecret(_ node: Node, _ path: String, minimumLength: Int = 1) -> SecretReference? {
        guard let text = reader.string(node, path) else { return nil }
        guard let secret = SecretReference(text) else {
            reader.report(
                node, path, "secrets are never written in the file; use env:NAME (an environment variable) or file:PATH (a mounted file)")
            return nil
        }
        configuration.secretUses.append(
            SecretUse(
                reference: secret, file: reader.file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, keyPath: path,
                minimumLength: minimumLength))
        return secret
    }

    private mutating func readTarget(_ node: Node, _ path: String) {
        guard let fields = reader.mapping(node, path, known: ["name", "repo", "branch", "paths", "mode", "mergeRequest"]) else { return }
        guard let nameNode = fields["name"]?.value, let name = reader.string(nameNode, "\(path).name") else {
            return reader.report(node, "\(path).name", "every target needs a name; add name: dev")
        }
        guard let repoNode = fields["repo"]?.value, let repo = reader.string(repoNode, "\(path).repo") else {
            return reader.report(node, "\(path).repo", "every target needs repo: the name of an entry under repos")
        }
        var target = Target(name: name, repo: repo)
        if let branch = fields["branch"], let value = reader.string(branch.value, "\(path).branch") { target.branch = value }
        if let mode = fields["mode"], let value = reader.choice(mode.value, "\(path).mode", as: Target.Mode.self) { target.mode = value }
        if let node = fields["mergeRequest"]?.value,
            let options = reader.mapping(node, "\(path).mergeRequest", known: ["labels", "reviewers", "autoMerge", "draft", "mergeMethod"])
        {
            if let labels = options["labels"] { target.labels = reader.strings(labels.value, "\(path).mergeRequest.labels").map(\.0) }
            if let reviewers = options["reviewers"] {
                target.reviewers = reader.strings(reviewers.value, "\(path).mergeRequest.reviewers").map(\.0)
            }
            if let method = options["mergeMethod"],
                let value = reader.choice(method.value, "\(path).mergeRequest.mergeMethod", as: Target.MergeMethod.self)
            {
                target.mergeMethod = value
            }
            for (key, keyPath) in [("autoMerge", \Target.autoMerge), ("draft", \Target.draft)] {
                if let value = options[key]?.value, let flag = reader.flag(value, "\(path).mergeRequest.\(key)") { target[keyPath: keyPath] = flag }
            }
        }
        if let paths = fields["paths"] {
            for (index, (pattern, patternNode)) in reader.strings(paths.value, "\(path).paths").enumerated() {
                do { target.paths.append(try PathGlob(pattern)) } catch {
                    reader.report(patternNode, "\(path).paths[\(index)]", error.description)
                }
            }
        }
        configuration.targets.append(target)
        nodes["target:\(configuration.targets.count - 1)"] = (nameNode, "\(path).name")
        nodes["target-repo:\(configuration.targets.count - 1)"] = (repoNode, "\(path).repo")
    }

    private mutating func readImage(_ node: Node, _ path: String) {
        guard let fields = reader.mapping(node, path, known: ["name", "targets", "fluxPolicies", "policy", "targetPolicies", "poll", "verify"]) else {
            return
        }
        guard let nameNode = fields["name"]?.value, let text = reader.string(nameNode, "\(path).name") else {
            return reader.report(node, "\(path).name", "every image needs a name such as ghcr.io/acme/api")
        }
        let name: ImageName
        do { name = try ImageName(parsing: text) } catch {
            return reader.report(nameNode, "\(path).name", "\(error.reason); write the repository without tag, e.g. ghcr.io/acme/api")
        }
        var image = ImageSettings(name: name)
        if let list = fields["targets"] { image.targets = reader.strings(list.value, "\(path).targets").map(\.0) }
        if let list = fields["fluxPolicies"] {
            for (index, (policy, policyNode)) in reader.strings(list.value, "\(path).fluxPolicies").enumerated() {
                let parts = policy.split(separator: ":", omittingEmptySubsequences: false)
                if parts.count == 2, parts.allSatisfy({ !$0.isEmpty }) {
                    image.fluxPolicies.append(policy)
                } else {
                    reader.report(
                        policyNode, "\(path).fluxPolicies[\(index)]", "write a Flux image policy as namespace:name, e.g. flux-system:api")
                }
            }
        }
        if let node = fields["policy"]?.value, let policy = readPolicy(node, "\(path).policy") { image.policy = policy }
        if let node = fields["targetPolicies"]?.value { image.targetPolicies = readTargetPolicies(node, "\(path).targetPolicies", base: image.policy) }
        if let node = fields["poll"]?.value { image.pollSeconds = readInterval(node, "\(path).poll") }
        if let node = fields["verify"]?.value { image.verify = reader.flag(node, "\(path).verify") ?? false }
        configuration.images.append(image)
        nodes["image:\(configuration.images.count - 1)"] = (nameNode, "\(path).name")
        if let list = fields["fluxPolicies"] {
            nodes["image-policies:\(configuration.images.count - 1)"] = (list.value, "\(path).fluxPolicies")
        }
        if let list = fields["targets"] { nodes["image-targets:\(configuration.images.count - 1)"] = (list.value, "\(path).targets") }
    }
}
