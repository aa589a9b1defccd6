import ImageReference
import Testing

@Suite struct DigestTests {
    @Test func acceptsRegisteredAndOtherAlgorithms() throws {
        let sha256 = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        #expect(sha256.algorithm == "sha256")
        let sha512 = try Digest(parsing: "sha512:" + String(repeating: "b", count: 128))
        #expect(sha512.encoded.count == 128)
        let other = try Digest(parsing: "multihash+base58:" + String(repeating: "Q", count: 40))
        #expect(other.algorithm == "multihash+base58")
    }

    @Test(arguments: [
        "sha256", "sha256:", ":abc", "sha256:" + String(repeating: "a", count: 63), "SHA256:" + String(repeating: "a", count: 64),
        "x:short",
    ])
    func rejectsMalformed(text: String) {
        #expect(throws: ImageReferenceError.self) { try Digest(parsing: text) }
    }
}
