import Foundation
import Yams

/// Reading `registries[]` and polling intervals.
extension ConfigurationLoader {
    mutating func readRegistry(_ node: Node, _ path: String) {
        guard let fields = reader.mapping(node, path, known: ["host", "username", "password", "caBundle", "insecure"]) else { return }
        guard let hostNode = fields["host"]?.value, let host = reader.string(hostNode, "\(path).host") else {
            return reader.report(node, "\(path).host", "every registry needs a host, as images name it: ghcr.io, registry.internal:5000")
        }
        if host.contains("/") || host.contains("://") {
            reader.report(hostNode, "\(path).host", "write the host alone (ghcr.io, registry.internal:5000), without scheme or path")
        }
        if configuration.registries.contains(where: { $0.host == host }) {
            reader.report(hostNode, "\(path).host", "the registry \(host) is listed twice; merge the entries")
        }
        var registry = RegistrySettings(host: host)
        registry.username = fields["username"].flatMap { reader.string($0.value, "\(path).username") }
        registry.password = fields["password"].flatMap { readSecret($0.value, "\(path).password") }
        if (registry.username == nil) != (registry.password == nil), fields["username"] != nil || fields["password"] != nil {
            reader.report(node, "\(path).password", "give both username and password (a secret: env:NAME or file:PATH), or neither for anonymous reads")
        }
        if let bundle = fields["caBundle"], let value = reader.string(bundle.value, "\(path).caBundle") {
            if !FileManager.default.fileExists(atPath: value) {
                reader.report(bundle.value, "\(path).caBundle", "the file \(value) does not exist; give the path of a PEM bundle of certificate authorities")
            }
            registry.caBundle = value
        }
        if let insecure = fields["insecure"], let flag = reader.flag(insecure.value, "\(path).insecure") {
            registry.insecure = flag
            if flag, registry.password != nil {
                configuration.warnings.append(
                    ConfigProblem(
                        file: reader.file, line: insecure.value.mark?.line ?? 1, column: insecure.value.mark?.column ?? 1,
                        keyPath: "\(path).insecure",
                        message: "registry \(host) is read over plain HTTP with a password: anyone on the path can read it; use HTTPS (caBundle for a private CA)"))
            }
        }
        configuration.registries.append(registry)
    }

    /// An interval: whole seconds, or a number with a unit (`30s`, `5m`, `1h`); 0 turns polling off.
    mutating func readInterval(_ node: Node, _ path: String) -> Int? {
        guard case .scalar(let scalar) = node else {
            reader.report(node, path, "expected an interval such as 5m, 30s or 1h (0 turns polling off)")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        let units: [(Character, Int)] = [("s", 1), ("m", 60), ("h", 3600)]
        var seconds: Int?
        if let value = Int(text) {
            seconds = value
        } else if let last = text.last, let unit = units.first(where: { $0.0 == last }), let value = Int(text.dropLast()) {
            seconds = value * unit.1
        }
        guard let seconds, seconds >= 0, seconds <= 7 * 86_400 else {
            reader.report(node, path, "\"\(text)\" is not an interval; write 5m, 30s or 1h (at most 7 days; 0 turns polling off)")
            return nil
        }
        return seconds
    }
}
