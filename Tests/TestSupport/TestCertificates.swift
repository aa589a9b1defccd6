import Foundation

/// A throw-away CA and a server certificate for localhost, made with the openssl command.
public enum TestCertificates {
    public struct Files: Sendable {
        public let caCertificate: String
        public let serverCertificate: String
        public let serverKey: String
    }

    public static func make() throws -> Files {
        let directory = try TemporaryDirectory.make("imagebump-pki").path
        func openssl(_ arguments: [String]) throws { try Command.succeed("/usr/bin/openssl", arguments) }
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=imagebump test CA", "-keyout",
            "\(directory)/ca.key", "-out", "\(directory)/ca.pem",
        ])
        try openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "\(directory)/server.key", "-out",
            "\(directory)/server.csr",
        ])
        try Data("subjectAltName=DNS:localhost,IP:127.0.0.1\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/san.ext"))
        try openssl([
            "x509", "-req", "-in", "\(directory)/server.csr", "-CA", "\(directory)/ca.pem", "-CAkey", "\(directory)/ca.key",
            "-CAcreateserial",
            "-days", "2", "-extfile", "\(directory)/san.ext", "-out", "\(directory)/server.pem",
        ])
        return Files(
            caCertificate: "\(directory)/ca.pem", serverCertificate: "\(directory)/server.pem", serverKey: "\(directory)/server.key")
    }
}
