import ImageReference
import Foundation
import Manifests

/// The commit message of a bump: a subject from the template (or the item's own, for a revert;
/// or, for several images at once, a count), every changed line, and trailers that identify the change (`Imagebump-Event`
/// makes replays recognisable; a batch carries one per event it answers).
enum CommitMessage {
    static func render(template: String, items: [BumpItem], target: GitTarget, changes: [Change]) -> String {
        let subject: String
        if items.count == 1, let subjectGiven = items.first?.subject {
            subject = subjectGiven
        } else if items.count == 1, let request = items.first?.request {
            subject = render(template: template, request: request, target: target)
        } else {
            subject = "Bump \(items.count) images in \(target.location)"
        }
        let body = changes.map { "- \($0.file):\($0.line) \($0.summary)" }.joined(separator: "\n")
        let images = items.map { "Imagebump-Image: \($0.request)" }
        // The events this commit writes. Events superseded in the batch were not written: they
        // are in no commit's trailers.
        let events = items.map { "Imagebump-Event: \($0.eventID)" }
        return """
            \(subject)

            \(body)

            \((images + ["Imagebump-Target: \(target.name)"] + events).joined(separator: "\n"))

            """
    }

    /// The template with `{image}`, `{tag}`, `{digest}`, `{reference}`, `{target}` and `{location}` filled in.
    static func render(template: String, request: BumpRequest, target: GitTarget) -> String {
        let tag = request.tag ?? request.digest.map { String($0.description.prefix(19)) } ?? ""
        var subject = template
        for (placeholder, value) in [
            ("{image}", request.image.description), ("{tag}", tag), ("{digest}", request.digest?.description ?? ""),
            ("{reference}", request.description), ("{target}", target.name), ("{location}", target.location),
        ] {
            subject = subject.replacingOccurrences(of: placeholder, with: value)
        }
        return subject
    }
}
