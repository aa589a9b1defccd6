import Foundation
import ImageReference
import TestSupport
import Testing

@testable import Manifests

@Suite struct ExtractionTests {
    static let api = try! ImageName(parsing: "ghcr.io/acme/api")
    let extractor = ReferenceExtractor()

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixturesDirectory().appendingPathComponent("files/\(name)")))
    }

    @Test func aliasBombIsBoundedAndStillFound() throws {
        let clock = ContinuousClock()
        var result: ExtractionResult?
        let elapsed = try clock.measure {
            result = extractor.extract(file: "bomb.yaml", bytes: try fixture("alias-bomb.yaml"), image: Self.api)
        }
        // Aliased nodes are walked once: 9^9 expansions would never finish.
        #expect(result?.references.map(\.tag) == ["1.4.1"])
        #expect(elapsed < .seconds(5))
        let tight = ReferenceExtractor(options: ExtractionOptions(maximumNodes: 20))
        #expect(
            tight.extract(file: "bomb.yaml", bytes: try fixture("alias-bomb.yaml")).skipped?.reason.contains("more than 20 YAML nodes")
                == true)
    }

    @Test func helmTemplatesAreSkippedButMarkersStillWork() throws {
        let result = extractor.extract(file: "templates/deployment.yaml", bytes: try fixture("helm-template.yaml"))
        #expect(result.references.count == 1)
        #expect(result.references.first?.kind == .marker)
        #expect(result.references.first?.line == 8)
        // Outside a chart's templates/, a file that parses as YAML is read whatever it holds…
        let parses = extractor.extract(file: "t.yaml", bytes: Array("a:\n  b: {{ .Values.x }}\n".utf8))
        #expect(parses.skipped == nil)
        // …and one that does not parse is skipped, saying it is a template.
        let broken = extractor.extract(file: "t.yaml", bytes: Array("image: {{ .Values.repo }}:{{ .Values.tag }}\n".utf8))
        #expect(broken.skipped?.reason.hasPrefix("a Helm/Go template ({{ }}) that is not YAML") == true, "\(String(describing: broken.skipped))")
    }

    @Test func aTaglessReferenceIsReportedWhereItsNameIs() {
        let result = extractor.extract(file: "compose.yaml", bytes: Array("services:\n  db:\n    image: mongo\n".utf8))
        #expect(result.references.first.map { "\($0.line):\($0.column)" } == "3:12")
    }

    @Test func invalidUTF8IsSkipped() throws {
        let result = extractor.extract(file: "x.yaml", bytes: try fixture("not-utf8.yaml"))
        #expect(result.skipped?.reason == "not UTF-8 text")
        #expect(result.references.isEmpty)
    }

    @Test func escapedValuesAreReportedButNotEditable() throws {
        let result = extractor.extract(file: "x.yaml", bytes: try fixture("multi-line-plain.yaml"), image: Self.api)
        #expect(result.references.count == 1)
        #expect(result.references.first?.slots.isEmpty == true)
        let request = try BumpRequest(ImageReference(parsing: "ghcr.io/acme/api:1.4.2"))
        let decision = request.decide(try #require(result.references.first))
        guard case .leftAlone(let reason) = decision else {
            Issue.record("expected leftAlone, got \(decision)")
            return
        }
        #expect(reason.contains("byte for byte"))
    }

    @Test func invalidYAMLNamesTheProblemAndPosition() {
        let result = extractor.extract(file: "x.yml", bytes: Array("a: [1, 2\nb: c\n".utf8))
        let reason = result.skipped?.reason ?? ""
        #expect(reason.hasPrefix("invalid YAML: "))
        #expect(reason.contains("line "))
    }

    @Test func nonYAMLFilesOnlyYieldMarkers() {
        let text = "image: ghcr.io/acme/api:1.4.1\nTAG=1.4.1 # imagebump: ghcr.io/acme/api:tag\n"
        let result = extractor.extract(file: "notes.txt", bytes: Array(text.utf8))
        #expect(result.references.map(\.line) == [2])
    }

    @Test func markerNamingAnotherImageIsAProblem() {
        let text = "a: ghcr.io/acme/other:1.0 # imagebump: ghcr.io/acme/api\n"
        let result = extractor.extract(file: "x.yaml", bytes: Array(text.utf8))
        #expect(result.references.isEmpty)
        #expect(result.problems.first?.message.contains("the marker names ghcr.io/acme/api but the value is ghcr.io/acme/other") == true)
    }

    @Test func badMarkerImageIsAProblem() {
        let result = extractor.extract(file: "x.yaml", bytes: Array("a: 1 # imagebump: Not/Valid\n".utf8))
        #expect(result.problems.count == 1)
        #expect(result.problems.first?.description.hasPrefix("x.yaml:1: the marker") == true)
    }
}
