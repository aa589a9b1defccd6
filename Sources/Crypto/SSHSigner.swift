import COpenSSL
import Foundation

/// Signs with an OpenSSH private key (Ed25519 or ECDSA P-256, unencrypted `openssh-key-v1`)
/// in the `sshsig` format that `git verify-commit` checks with `gpg.format=ssh` (OpenSSH's
/// PROTOCOL.sshsig): the message's SHA-512 in a blob with the namespace, signed, armored as
/// `-----BEGIN SSH SIGNATURE-----`. Owns its `EVP_PKEY*`; not Sendable: one thread uses it.
public final class SSHSigner {
    private enum Kind { case ed25519, ecdsaP256 }

    private let key: OpaquePointer
    private let kind: Kind
    /// The public key as SSH writes it (`string type || …`), for the signature's header.
    private let publicKeyBlob: [UInt8]

    /// Reads an OpenSSH private key (`ssh-keygen -t ed25519` or `-t ecdsa -b 256`, no passphrase).
    public init(openSSHPrivateKey text: String) throws(CryptoError) {
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard text.contains("BEGIN OPENSSH PRIVATE KEY"), let data = Data(base64Encoded: body) else {
            throw CryptoError(operation: "read the signing key", message: "not an OpenSSH private key (ssh-keygen writes one)")
        }
        var reader = SSHReader(Array(data))
        let magic = Array("openssh-key-v1\0".utf8)
        guard reader.take(magic.count) == magic, let cipher = reader.string(), let kdf = reader.string(), reader.string() != nil,
            reader.uint32() == 1, let publicBlob = reader.bytes(), let secret = reader.bytes()
        else { throw CryptoError(operation: "read the signing key", message: "the key file is not in the openssh-key-v1 format") }
        guard cipher == "none", kdf == "none" else {
            throw CryptoError(operation: "read the signing key", message: "the key has a passphrase; give imagebump one without (ssh-keygen -p -N '')")
        }
        var inner = SSHReader(secret)
        guard let check1 = inner.uint32(), inner.uint32() == check1, let type = inner.string() else {
            throw CryptoError(operation: "read the signing key", message: "the private section is damaged")
        }
        let made: OpaquePointer?
        switch type {
        case "ssh-ed25519":
            guard inner.bytes()?.count == 32, let pair = inner.bytes(), pair.count == 64 else {
                throw CryptoError(operation: "read the signing key", message: "the Ed25519 key is damaged")
            }
            made = pair.prefix(32).withUnsafeBufferPointer { EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32) }
            kind = .ed25519
        case "ecdsa-sha2-nistp256":
            guard inner.string() == "nistp256", let point = inner.bytes(), var scalar = inner.bytes() else {
                throw CryptoError(operation: "read the signing key", message: "the ECDSA key is damaged")
            }
            while scalar.first == 0 { scalar.removeFirst() }  // an mpint's sign byte
            made = scalar.withUnsafeBufferPointer { d in
                point.withUnsafeBufferPointer { q in imagebump_ec_p256_key(d.baseAddress, Int32(d.count), q.baseAddress, q.count) }
            }
            kind = .ecdsaP256
        default:
            throw CryptoError(operation: "read the signing key", message: "\(type) keys are not supported; use an Ed25519 or ECDSA P-256 key")
        }
        guard let made else { throw CryptoError.last("read the signing key") }
        key = made
        publicKeyBlob = publicBlob
    }

    deinit { EVP_PKEY_free(key) }

    /// The `sshsig` signature of `message` in `namespace`, armored.
    public func sign(_ message: [UInt8], namespace: String = "git") throws(CryptoError) -> String {
        let hashAlgorithm = "sha512"
        var digest = [UInt8](repeating: 0, count: 64)
        var digestLength: UInt32 = 0
        guard EVP_Digest(message, message.count, &digest, &digestLength, EVP_sha512(), nil) == 1 else {
            throw CryptoError.last("EVP_Digest")
        }
        var signedData = Array("SSHSIG".utf8)
        SSHWriter.string(Array(namespace.utf8), into: &signedData)
        SSHWriter.string([], into: &signedData)  // reserved
        SSHWriter.string(Array(hashAlgorithm.utf8), into: &signedData)
        SSHWriter.string(Array(digest.prefix(Int(digestLength))), into: &signedData)

        var signatureBlob: [UInt8] = []
        switch kind {
        case .ed25519:
            SSHWriter.string(Array("ssh-ed25519".utf8), into: &signatureBlob)
            SSHWriter.string(try raw(signedData, digest: nil), into: &signatureBlob)
        case .ecdsaP256:
            let der = try raw(signedData, digest: EVP_sha256())
            var r = [UInt8](repeating: 0, count: 66)
            var s = [UInt8](repeating: 0, count: 66)
            var rLength: Int32 = 0
            var sLength: Int32 = 0
            guard imagebump_ecdsa_der_to_rs(der, der.count, &r, &rLength, &s, &sLength) == 1 else {
                throw CryptoError.last("d2i_ECDSA_SIG")
            }
            var pair: [UInt8] = []
            SSHWriter.mpint(Array(r.prefix(Int(rLength))), into: &pair)
            SSHWriter.mpint(Array(s.prefix(Int(sLength))), into: &pair)
            SSHWriter.string(Array("ecdsa-sha2-nistp256".utf8), into: &signatureBlob)
            SSHWriter.string(pair, into: &signatureBlob)
        }

        var armored = Array("SSHSIG".utf8)
        SSHWriter.uint32(1, into: &armored)
        SSHWriter.string(publicKeyBlob, into: &armored)
        SSHWriter.string(Array(namespace.utf8), into: &armored)
        SSHWriter.string([], into: &armored)
        SSHWriter.string(Array(hashAlgorithm.utf8), into: &armored)
        SSHWriter.string(signatureBlob, into: &armored)
        let base64 = Array(Data(armored).base64EncodedString())
        let lines = stride(from: 0, to: base64.count, by: 70).map { String(base64[$0..<min($0 + 70, base64.count)]) }
        return (["-----BEGIN SSH SIGNATURE-----"] + lines + ["-----END SSH SIGNATURE-----"]).joined(separator: "\n") + "\n"
    }

    /// The key's signature over `data` (Ed25519: one-shot, no digest; ECDSA: DER over `digest`).
    private func raw(_ data: [UInt8], digest: OpaquePointer?) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.last("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, digest, nil, key) == 1 else { throw CryptoError.last("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, data, data.count) == 1 else { throw CryptoError.last("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, data, data.count) == 1 else { throw CryptoError.last("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }
}

/// Reads SSH wire encoding: `uint32` big-endian, `string` as a length and bytes.
struct SSHReader {
    private let data: [UInt8]
    private var offset = 0

    init(_ data: [UInt8]) { self.data = data }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, offset + count <= data.count else { return nil }
        defer { offset += count }
        return Array(data[offset..<offset + count])
    }

    mutating func uint32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }

    mutating func bytes() -> [UInt8]? { uint32().flatMap { take(Int($0)) } }

    mutating func string() -> String? { bytes().map { String(decoding: $0, as: UTF8.self) } }
}

/// Writes SSH wire encoding.
enum SSHWriter {
    static func uint32(_ value: UInt32, into out: inout [UInt8]) {
        out += [UInt8(value >> 24 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func string(_ bytes: [UInt8], into out: inout [UInt8]) {
        uint32(UInt32(bytes.count), into: &out)
        out += bytes
    }

    /// A positive big-endian integer as an SSH `mpint`: no leading zeros, and a zero byte in
    /// front when the high bit is set.
    static func mpint(_ magnitude: [UInt8], into out: inout [UInt8]) {
        var value = Array(magnitude.drop { $0 == 0 })
        if let first = value.first, first & 0x80 != 0 { value.insert(0, at: 0) }
        string(value, into: &out)
    }
}
