import Foundation
import PropertyBased
import Testing

@testable import Policy

/// The fixture files next to this file.
func policyFixture(_ name: String) throws -> [String] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init).filter {
        !$0.isEmpty && !$0.hasPrefix("#")
    }
}

@Suite struct SemverRangeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let range: String
        let version: String
        let expected: Bool
        let includePrerelease: Bool
        var testDescription: String { "\(range) ∋ \(version): \(expected)" }
    }

    static func cases() throws -> [Case] {
        try policyFixture("ranges.txt").map { line in
            // RANGE | VERSION | RESULT, read from the right: ranges hold "||".
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let result = fields[fields.count - 1]
            return Case(
                range: fields[..<(fields.count - 2)].joined(separator: "|"), version: fields[fields.count - 2],
                expected: result.hasPrefix("yes"), includePrerelease: result.contains("with pre-releases"))
        }
    }

    @Test(arguments: try cases())
    func everyRangeForm(_ entry: Case) throws {
        let range = try SemverRange(entry.range)
        let version = try #require(SemanticVersion(entry.version))
        #expect(range.contains(version, includePrerelease: entry.includePrerelease) == entry.expected)
    }

    @Test func badRangesSayWhatIsWrong() {
        for text in ["^1.2.3.4", "banana", ">=", "1.x.3", "~1.2-rc..1"] {
            #expect(throws: PolicyError.self, "\(text)") { try SemverRange(text) }
        }
        do { _ = try SemverRange(">= 1.0 <two") } catch {
            #expect(error.description == "semver: \"two\" in \">= 1.0 <two\" is not a version (write 1, 1.4 or 1.4.2, with x or * for any)")
        }
    }

    @Test func precedenceFollowsSemVer() throws {
        let versions = try policyFixture("versions-ascending.txt").map { try #require(SemanticVersion($0), "\($0)") }
        for (lower, higher) in zip(versions, versions.dropFirst()) {
            #expect(lower < higher, "\(lower) < \(higher)")
            #expect(!(higher < lower))
        }
        #expect(SemanticVersion("1.0.0+build.1") == SemanticVersion("1.0.0+build.2"))
        for tag in ["latest", "main-3f2a", "1.4.2.1", "1..2", "v", "1.2.3-", "1.2.3+"] { #expect(SemanticVersion(tag) == nil, "\(tag)") }
    }
}

@Suite struct TagPolicyTests {
    @Test func semverPolicyTakesTheRangeAndExplainsTheRest() throws {
        let policy = TagPolicy(filter: .semver(try SemverRange("~1.4.0"), includePrerelease: false), ignore: ["*-debug"])
        #expect(policy.verdict("1.4.3") == .accepted)
        #expect(policy.verdict("v1.4.9") == .accepted)
        #expect(policy.verdict("1.5.0") == .rejected("outside ~1.4.0"))
        #expect(policy.verdict("1.4.4-rc.1") == .rejected("a pre-release, outside ~1.4.0"))
        #expect(policy.verdict("latest") == .rejected("not a semantic version"))
        #expect(policy.verdict("1.4.4-debug") == .rejected("ignored by \"*-debug\""))
        #expect(policy.best(["1.4.3", "1.5.0", "1.4.10", "1.4.9"]) == "1.4.10")
    }

    @Test func patternPolicyRanksByTheNamedCapture() throws {
        let numeric = TagPolicy(filter: .pattern(try TagPattern("^main-[a-f0-9]+-(?P<ts>[0-9]+)$"), .numerical))
        #expect(numeric.verdict("main-3f2a9c-1700000123") == .accepted)
        #expect(numeric.verdict("feature-3f2a9c-1700000123") == .rejected("does not match ^main-[a-f0-9]+-(?P<ts>[0-9]+)$"))
        #expect(numeric.compare("main-aa-99", "main-bb-100") == .orderedAscending)  // numerically, not as text
        #expect(numeric.best(["main-aa-99", "main-bb-100", "main-cc-42"]) == "main-bb-100")

        let alphabetical = TagPolicy(filter: .pattern(try TagPattern("^build-(?<id>[a-z]+)$"), .alphabetical))
        #expect(alphabetical.compare("build-b", "build-a") == .orderedDescending)
        let semver = TagPolicy(filter: .pattern(try TagPattern("^api-(?<version>.+)$"), .semver))
        #expect(semver.compare("api-1.10.0", "api-1.9.0") == .orderedDescending)
        #expect(semver.verdict("api-next") == .rejected("version \"next\" is not a semantic version"))

        #expect(throws: PolicyError.self) { try TagPattern("^main-[0-9]+$") }  // nothing to rank by
        #expect(throws: PolicyError.self) { try TagPattern("^(?<ts>[0-9]+$") }  // not a regex
        #expect(throws: PolicyError.self) { try TagPattern("^(?<ts>[0-9]+)$", group: "build") }
    }

    @Test func ignoreGlobs() {
        let policy = TagPolicy(ignore: ["latest", "*-rc*", "sha-*", "v?"])
        for tag in ["latest", "1.4.0-rc1", "2.0-rc.2-amd64", "sha-3f2a", "v1"] { #expect(policy.verdict(tag) != .accepted, "\(tag)") }
        for tag in ["1.4.0", "latest-but-not", "v10", "shasum"] { #expect(policy.verdict(tag) == .accepted, "\(tag)") }
    }

    @Test func anyPolicyRanksVersionsAndLeavesTheRestToArrival() {
        #expect(TagPolicy.any.compare("1.4.10", "1.4.9") == .orderedDescending)
        #expect(TagPolicy.any.compare("main-1", "main-2") == nil)
        #expect(TagPolicy.any.best(["main-2", "main-1"]) == "main-1")  // arrival: the later one
    }

    /// The chosen tag is the maximum of the allowed set, whatever order the tags come in.
    @Test func bestIsTheMaximumOfTheAllowedTags() async {
        let range = try! SemverRange("^1.2")
        let policy = TagPolicy(filter: .semver(range, includePrerelease: false), ignore: ["*.13"])
        await propertyCheck(input: Gen.int(in: 0...3).array(of: 0...12).array(of: 1...20)) { parts in
            let tags = parts.map { $0.prefix(3).map(String.init).joined(separator: ".") }.filter { !$0.isEmpty }
            let allowed = tags.filter { policy.verdict($0) == .accepted }.compactMap { SemanticVersion($0) }
            let best = policy.best(tags).flatMap { SemanticVersion($0) }
            #expect(best == allowed.max(), "\(tags)")
            if let best { #expect(range.contains(best)) }
        }
    }
}
