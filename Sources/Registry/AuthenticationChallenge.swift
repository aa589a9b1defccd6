import Foundation

/// A `WWW-Authenticate` challenge: the scheme (`Bearer`, `Basic`) and its parameters
/// (`realm`, `service`, `scope`), as RFC 7235 writes them.
struct AuthenticationChallenge: Sendable, Hashable {
    let scheme: String
    let parameters: [String: String]

    /// Parses `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`.
    init?(_ header: String) {
        let text = header.trimmingCharacters(in: .whitespaces)
        let schemeEnd = text.firstIndex(of: " ") ?? text.endIndex
        scheme = String(text[..<schemeEnd]).lowercased()
        guard !scheme.isEmpty else { return nil }
        var parameters: [String: String] = [:]
        var rest = Substring(text[schemeEnd...])
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[name] = value
        }
        self.parameters = parameters
    }
}
