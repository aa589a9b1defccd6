import ImageReference
import PropertyBased
import Testing

@Suite struct ImageReferenceTests {
    static let sha = "sha256:" + String(repeating: "ab", count: 32)

    @Test(
        arguments: [
            ("nginx", "docker.io/library/nginx", nil, nil),
            ("nginx:1.25", "docker.io/library/nginx", "1.25", nil),
            ("user/app", "docker.io/user/app", nil, nil),
            ("docker.io/nginx", "docker.io/library/nginx", nil, nil),
            ("index.docker.io/library/nginx:latest", "docker.io/library/nginx", "latest", nil),
            ("registry-1.docker.io/user/app:v2", "docker.io/user/app", "v2", nil),
            ("ghcr.io/acme/api:1.4.2", "ghcr.io/acme/api", "1.4.2", nil),
            ("localhost/app", "localhost/app", nil, nil),
            ("localhost:5000/a/b:tag@\(sha)", "localhost:5000/a/b", "tag", sha),
            ("host:5000/a/b@\(sha)", "host:5000/a/b", nil, sha),
            ("[::1]:5000/app:1", "[::1]:5000/app", "1", nil),
            ("registry.example.com/team/sub/app__x-y.z:1_0", "registry.example.com/team/sub/app__x-y.z", "1_0", nil),
            ("Registry.Example.com/app", "Registry.Example.com/app", nil, nil),
        ] as [(String, String, String?, String?)])
    func normalises(input: String, name: String, tag: String?, digest: String?) throws {
        let reference = try ImageReference(parsing: input)
        #expect(reference.name.description == name)
        #expect(reference.tag == tag)
        #expect(reference.digest?.description == digest)
    }

    @Test(arguments: [
        ("", ImageReferenceError.Code.empty),
        ("Nginx", .uppercaseRepository),
        ("ghcr.io/Acme/api", .uppercaseRepository),
        ("ghcr.io/acme/api:", .invalidTag),
        ("ghcr.io/acme/api:-x", .invalidTag),
        ("ghcr.io/acme/api:\(String(repeating: "a", count: 129))", .invalidTag),
        ("ghcr.io/acme/api@sha256:abc", .invalidDigest),
        ("ghcr.io/acme/api@sha256:" + String(repeating: "A", count: 64), .invalidDigest),
        ("ghcr.io/acme//api", .invalidPathComponent),
        ("ghcr.io/acme/-api", .invalidPathComponent),
        ("ghcr.io/acme/api-", .invalidPathComponent),
        ("ghcr.io/acme/a..b", .invalidPathComponent),
        ("my host.io/api", .invalidDomain),
        ("-bad.io/api", .invalidDomain),
        ("bad.io:port/api", .invalidDomain),
        ("ghcr.io/" + String(repeating: "a", count: 250), .nameTooLong),
    ])
    func rejects(input: String, code: ImageReferenceError.Code) {
        #expect(throws: ImageReferenceError.self) { try ImageReference(parsing: input) }
        do {
            _ = try ImageReference(parsing: input)
        } catch {
            #expect(error.code == code, "\(input): \(error)")
            #expect(error.description.contains("is not a valid image reference"))
        }
    }

    @Test func writtenNameLengthMarksTheSuffix() throws {
        let written = "nginx:1.25@\(Self.sha)"
        let reference = try ImageReference(parsing: written)
        #expect(reference.writtenNameLength == 5)
        #expect(String(written.dropFirst(reference.writtenNameLength)) == reference.suffix)
    }

    @Test func familiarNames() throws {
        #expect(try ImageName(parsing: "docker.io/library/nginx").familiar == "nginx")
        #expect(try ImageName(parsing: "user/app").familiar == "user/app")
        #expect(try ImageName(parsing: "ghcr.io/acme/api").familiar == "ghcr.io/acme/api")
        #expect(throws: ImageReferenceError.self) { try ImageName(parsing: "nginx:1") }
    }

    // MARK: - Properties

    /// One of `options` (never empty, so the unwrap cannot fail).
    static func choose(_ options: [String]) -> Generator<String, Shrink.None<String?>> {
        Gen.element(of: options).map { $0! }
    }

    static let component = Gen.lowercaseLetter.string(of: 1...5)
    static let separator = choose([".", "_", "__", "-", "--"])
    static let pathComponent = zip(component, separator, component, Gen.bool).map {
        (first: String, separator: String, second: String, joined: Bool) -> String in
        joined ? first + separator + second : first
    }
    static let domain = choose([
        "", "docker.io/", "index.docker.io/", "registry-1.docker.io/", "ghcr.io/", "localhost/", "localhost:5000/",
        "registry.example.com:443/", "[::1]:5000/",
    ])
    static let suffix = choose(["", ":1.4.2", ":v1", ":latest", ":1.10", ":main-abc123-1700000000", ":A_b.c-D", "@\(sha)", ":1@\(sha)"])
    static let reference = zip(domain, pathComponent.array(of: 1...3), suffix).map {
        (domain: String, path: [String], suffix: String) -> String in
        domain + path.joined(separator: "/") + suffix
    }

    @Test func parseFormatRoundTrips() async {
        await propertyCheck(count: 300, input: Self.reference) { text in
            guard let parsed = try? ImageReference(parsing: text) else {
                Issue.record("generated reference \(text) did not parse")
                return
            }
            let again = try? ImageReference(parsing: parsed.description)
            #expect(again == parsed, "\(text) → \(parsed.description)")
        }
    }

    @Test func normalisationIsIdempotent() async {
        await propertyCheck(count: 300, input: Self.reference) { text in
            guard let once = try? ImageReference(parsing: text) else {
                Issue.record("\(text) did not parse")
                return
            }
            let twice = try? ImageReference(parsing: once.description)
            #expect(twice?.description == once.description)
            let familiar = try? ImageName(parsing: once.name.familiar)
            #expect(familiar == once.name, "familiar \(once.name.familiar) of \(once.name)")
        }
    }
}
