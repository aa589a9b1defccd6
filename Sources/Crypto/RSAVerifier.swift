import COpenSSL

/// An RSA public key that checks RSASSA-PKCS1-v1_5 signatures over SHA-256 (JWT `RS256`),
/// made from a JWK's modulus and exponent. Owns its `EVP_PKEY*`.
public final class RSAVerifier: @unchecked Sendable {  // the key is never changed after init; OpenSSL reads it concurrently
    private let key: OpaquePointer

    /// `modulus` and `exponent` are big-endian unsigned integers (a JWK's `n` and `e`, decoded).
    public init(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) {
        let modulus = Array(modulus.drop { $0 == 0 })
        guard modulus.count >= 256, !exponent.isEmpty else {
            throw CryptoError(operation: "RSA public key", message: "an RS256 key needs a modulus of at least 2048 bits")
        }
        let der = DER.subjectPublicKeyInfo(modulus: modulus, exponent: exponent)
        let key = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var pointer: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PUBKEY(nil, &pointer, buffer.count)
        }
        guard let key else { throw CryptoError.last("d2i_PUBKEY") }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is this key's RS256 signature of `data`.
    public func verifySHA256(_ data: [UInt8], signature: [UInt8]) -> Bool {
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error()
            return false
        }
        let result = EVP_DigestVerify(context, signature, signature.count, data, data.count)
        ERR_clear_error()
        return result == 1
    }
}

/// Just enough DER for an RSA SubjectPublicKeyInfo.
enum DER {
    static func length(_ count: Int) -> [UInt8] {
        if count < 0x80 { return [UInt8(count)] }
        var bytes: [UInt8] = []
        var value = count
        while value > 0 {
            bytes.insert(UInt8(value & 0xFF), at: 0)
            value >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func element(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { [tag] + length(content.count) + content }

    static func integer(_ value: [UInt8]) -> [UInt8] {
        var bytes = Array(value.drop { $0 == 0 })
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return element(0x02, bytes)
    }

    static func subjectPublicKeyInfo(modulus: [UInt8], exponent: [UInt8]) -> [UInt8] {
        let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00]
        let algorithm = element(0x30, rsaEncryption)
        let publicKey = element(0x30, integer(modulus) + integer(exponent))
        return element(0x30, algorithm + element(0x03, [0x00] + publicKey))
    }
}
