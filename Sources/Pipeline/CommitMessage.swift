import Foundation
import Manifests

/// The commit message of a bump: a subject from the template, every changed line, and
/// trailers that identify the change (`Imagebump-Event` makes replays recognisable).
enum CommitMessage {
    static func render(template: String, request: BumpRequest, target: GitTarget, changes: [Change], eventID: String) -> String {
        let tag = request.tag ?? request.digest.map { String($0.description.prefix(19)) } ?? ""
        var subject = template
        for (placeholder, value) in [
            ("{image}", request.image.description), ("{tag}", tag), ("{digest}", request.digest?.description ?? ""),
            ("{reference}", request.description), ("{target}", target.name), ("{location}", target.location),
        ] {
            subject = subject.replacingOccurrences(of: placeholder, with: value)
        }
        let body = changes.map { "- \($0.file):\($0.line) \($0.summary)" }.joined(separator: "\n")
        return """
            \(subject)

            \(body)

            Imagebump-Image: \(request)
            Imagebump-Target: \(target.name)
            Imagebump-Event: \(eventID)

            """
    }
}
