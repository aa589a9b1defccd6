import COpenSSL

/// A libcrypto failure, with OpenSSL's own message.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    public let operation: String
    public let message: String

    public var description: String { "\(operation): \(message)" }

    /// The error OpenSSL queued for the failed call (the queue is drained).
    static func last(_ operation: String) -> CryptoError {
        var text = "failed"
        let code = ERR_get_error()
        if code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        ERR_clear_error()
        return CryptoError(operation: operation, message: text)
    }
}

/// An RSA private key that signs with RSASSA-PKCS1-v1_5 over SHA-256 (JWT `RS256`). Owns
/// its `EVP_PKEY*`; not Sendable: one task uses it.
public final class RSASigner {
    private let key: OpaquePointer

    /// Reads a PEM private key (PKCS#1 or PKCS#8).
    public init(pem: String) throws(CryptoError) {
        let bytes = Array(pem.utf8)
        // BIO_new_mem_buf does not copy: the key is read while the bytes are certainly alive.
        let read = bytes.withUnsafeBytes { buffer -> (bio: Bool, key: OpaquePointer?) in
            guard let bio = imagebump_bio_from_bytes(buffer.baseAddress, Int32(buffer.count)) else { return (false, nil) }
            defer { BIO_free(bio) }
            return (true, PEM_read_bio_PrivateKey(bio, nil, nil, nil))
        }
        guard read.bio else { throw CryptoError.last("BIO_new_mem_buf") }
        guard let key = read.key else {
            throw CryptoError.last("PEM_read_bio_PrivateKey")
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else {
            EVP_PKEY_free(key)
            throw CryptoError(operation: "PEM_read_bio_PrivateKey", message: "the key is not an RSA key")
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// The RS256 signature of `data`.
    public func signSHA256(_ data: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.last("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else { throw CryptoError.last("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, data, data.count) == 1 else { throw CryptoError.last("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, data, data.count) == 1 else { throw CryptoError.last("EVP_DigestSign") }
        return Array(signature.prefix(length))
    }
}

/// HMAC-SHA256 (webhook signatures), with a constant-time comparison for verification.
public enum HMAC {
    public static func sha256(key: [UInt8], data: [UInt8]) -> [UInt8] { mac(EVP_sha256(), key, data) }

    /// HMAC-SHA1, for senders that still sign with it (Nexus).
    public static func sha1(key: [UInt8], data: [UInt8]) -> [UInt8] { mac(EVP_sha1(), key, data) }

    /// SHA-256 of `data` (no key).
    public static func digest(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = data.withUnsafeBytes { bytes in EVP_Digest(bytes.baseAddress, bytes.count, &out, &length, EVP_sha256(), nil) }
        return out
    }

    private static func mac(_ digest: OpaquePointer?, _ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = COpenSSL.HMAC(digest, key, Int32(key.count), data, data.count, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    /// Lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }, as: UTF8.self)
    }

    /// Whether `candidate` equals `expected` (a secret, or the signature computed from one),
    /// in time that depends only on `expected`'s length: every byte of `expected` is compared
    /// (with the candidate's bytes taken cyclically) whatever the candidate's length or where
    /// it differs, and a length mismatch is folded into the same result.
    public static func constantTimeEqual(_ candidate: String, _ expected: String) -> Bool {
        var candidate = candidate
        var expected = expected
        return candidate.withUTF8 { left in
            expected.withUTF8 { right in
                var difference = UInt(bitPattern: left.count ^ right.count)
                guard !right.isEmpty else { return difference == 0 }
                guard !left.isEmpty else { return false }
                var index = 0
                for byte in right {
                    difference |= UInt(left[index] ^ byte)
                    index += 1
                    if index == left.count { index = 0 }
                }
                return difference == 0
            }
        }
    }

    /// Compares in time independent of where the inputs differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { left in b.withUnsafeBytes { right in CRYPTO_memcmp(left.baseAddress, right.baseAddress, a.count) == 0 } }
    }
}
