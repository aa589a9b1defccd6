import Foundation
import ImageReference
import Manifests
import Policy
import PropertyBased
import TestSupport
import Testing

@testable import Pipeline

/// No sequence of events ever lowers a target's tag: after every bump the repository holds the
/// highest tag seen so far.
@Suite struct NoDowngradeTests {
    @Test func noEventSequenceLowersATargetsTag() async throws {
        let setup = try WriteBackTests.Setup()
        let writer = WriteBack(settings: setup.settings)
        let target = try setup.target(paths: ["envs/prd/**"])
        var highest = try #require(SemanticVersion("1.4.1"))  // the fixture's tag
        var counter = 0
        await propertyCheck(count: 12, input: Gen.int(in: 0...3).array(of: 3).array(of: 1...5)) { sequence in
            for parts in sequence {
                let tag = "\(parts[0] + 1).\(parts[1]).\(parts[2])"
                counter += 1
                let item = BumpItem(
                    try! BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:\(tag)")), eventID: "evt-\(counter)", policy: .any)
                let result = try! writer.bump([item], target: target)
                let version = SemanticVersion(tag)!
                if version > highest {
                    #expect(result.outcome == .pushed, "\(tag) over \(highest)")
                    highest = version
                } else if version < highest {
                    #expect(result.skipped[item.request.image] == "older than current \(highest)", "\(tag) under \(highest)")
                }
                let line = try! setup.git("show", "main:envs/prd/api/deployment.yaml").split(separator: "\n").first {
                    $0.contains("image: ghcr.io/acme/api:")
                }
                #expect(line?.contains("ghcr.io/acme/api:\(highest) ") == true, "\(String(describing: line)) after \(tag)")
            }
        }
    }
}

@Suite struct PolicyDigestTests {
    @Test func aPinPolicyWritesTheDigestIntoNameTagReferences() throws {
        let setup = try WriteBackTests.Setup()
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let item = BumpItem(
            try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2@\(digest)")), eventID: "evt-pin",
            policy: TagPolicy(digest: .pin))
        let result = try WriteBack(settings: setup.settings).bump([item], target: try setup.target(paths: ["envs/prd/**"]))
        #expect(result.outcome == .pushed)
        #expect(try setup.git("show", "main:envs/prd/api/deployment.yaml").contains("image: ghcr.io/acme/api:1.4.2@\(digest) #"))
        // The Helm values' separate tag field has no room for a digest: tag only.
        #expect(try setup.git("show", "main:envs/prd/api/values.yaml").contains("tag: \"1.4.2\""))
    }
}
