import Foundation
import Testing

@testable import HTTPServer

@Suite struct JSONTextTests {
    @Test func matchesFoundationsSortedCompactOutput() throws {
        let samples: [Any] = [
            ["error": "unauthorized", "detail": "the \"token\" does not match\nretry"],
            ["events": [["id": "a/b", "duplicate": false, "attempts": 3, "digest": NSNull()]], "count": 1],
            ["ignored": "ping", "ratio": 0.25, "nested": ["z": [1, 2, 3], "a": ["x": true]]],
            ["control": "bell\u{07}tab\t", "unicode": "héllo ✓"],
        ]
        for sample in samples {
            let foundation = try JSONSerialization.data(withJSONObject: sample, options: [.sortedKeys, .withoutEscapingSlashes])
            let ours = Data(JSONText.encode(sample))
            let parsedOurs = try JSONSerialization.jsonObject(with: ours) as? NSDictionary
            let parsedFoundation = try JSONSerialization.jsonObject(with: foundation) as? NSDictionary
            #expect(parsedOurs == parsedFoundation, "\(String(decoding: ours, as: UTF8.self))")
        }
        #expect(String(decoding: JSONText.encode(["ignored": "ping"]), as: UTF8.self) == #"{"ignored":"ping"}"#)
    }
}
