import ImageReference

/// One reference moved from one tag/digest to another: a line of a commit message or a
/// merge-request table.
public struct Change: Sendable, Hashable, Codable {
    public let file: String
    public let line: Int
    public let kind: ReferenceKind
    public let image: String
    public let oldTag: String?
    public let newTag: String?
    public let oldDigest: String?
    public let newDigest: String?

    /// `1.4.1 → 1.4.2`, with digests where they take part.
    public var summary: String {
        func value(_ tag: String?, _ digest: String?) -> String {
            [tag, digest.map { "@\($0)" }].compactMap { $0 }.joined()
        }
        return "\(value(oldTag, oldDigest)) → \(value(newTag, newDigest))"
    }
}

/// A reference a bump did not touch, and why.
public struct LeftAlone: Sendable, Hashable {
    public let reference: Reference
    public let reason: String
}

/// The result of bumping one file.
public struct FileUpdate: Sendable, Hashable {
    public let file: String
    public let original: [UInt8]
    /// The new bytes; equal to ``original`` when nothing changed.
    public let updated: [UInt8]
    public let changes: [Change]
    public let upToDate: [Reference]
    public let leftAlone: [LeftAlone]

    public var isChanged: Bool { updated != original }

    /// References of the image that should have moved and could not be written (escaped or
    /// multi-line values): not a choice, a failure — callers report them with the file.
    public var unwritable: [LeftAlone] {
        leftAlone.filter { $0.reference.slots.isEmpty && ($0.reference.tag != nil || $0.reference.digest != nil) }
    }

    /// This file after a second update that started from this one's bytes (several images
    /// bumped in one commit): the original stays, the changes add up.
    public func followed(by next: FileUpdate) -> FileUpdate {
        FileUpdate(
            file: file, original: original, updated: next.updated, changes: changes + next.changes, upToDate: upToDate + next.upToDate,
            leftAlone: leftAlone + next.leftAlone)
    }
}

/// Why an edit was refused. Nothing is written when this is thrown.
public struct UpdateError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// Two references asked for different bytes in the same place.
        case conflictingEdits
        /// Extracting again from the edited text did not give the expected references.
        case verificationFailed
    }

    public let code: Code
    public let file: String
    public let detail: String

    public var description: String { "\(file): \(detail)" }
}

/// Rewrites the tag/digest bytes of references and nothing else.
public struct ManifestUpdater: Sendable {
    public let extractor: ReferenceExtractor

    public init(extractor: ReferenceExtractor = ReferenceExtractor()) {
        self.extractor = extractor
    }

    /// Applies `request` to one file. Every edit is verified by extracting again from the new
    /// bytes; a mismatch throws instead of returning text that says something else.
    /// `veto` may refuse a change to one reference with a reason (a tag policy: "older than
    /// current 1.4.3"); the reference is then left alone with that reason.
    public func update(file: String, bytes: [UInt8], request: BumpRequest, veto: (Reference) -> String? = { _ in nil }) throws(UpdateError)
        -> FileUpdate
    {
        let references = extractor.extract(file: file, bytes: bytes, image: request.image).references
        var edits: [Range<Int>: [UInt8]] = [:]
        var changes: [Change] = []
        var upToDate: [Reference] = []
        var leftAlone: [LeftAlone] = []
        var expected: [Reference: (String?, Digest?)] = [:]

        for reference in references {
            var decision = request.decide(reference)
            if case .change = decision, let reason = veto(reference) { decision = .leftAlone(reason) }
            switch decision {
            case .upToDate:
                upToDate.append(reference)
                expected[reference] = (reference.tag, reference.digest)
            case .leftAlone(let reason):
                leftAlone.append(LeftAlone(reference: reference, reason: reason))
                expected[reference] = (reference.tag, reference.digest)
            case .change(let tag, let digest):
                // An anchored value shared by several references is one edit and one change.
                let isNewEdit = reference.slots.contains { edits[$0.range] == nil }
                for slot in reference.slots {
                    let replacement = Self.replacement(for: slot, in: bytes, tag: tag, digest: digest)
                    if let existing = edits[slot.range], existing != replacement {
                        throw UpdateError(
                            code: .conflictingEdits, file: file,
                            detail: "line \(reference.line): two references ask for different values in the same place")
                    }
                    edits[slot.range] = replacement
                }
                expected[reference] = (tag, digest)
                guard isNewEdit else { continue }
                changes.append(
                    Change(
                        file: file, line: reference.line, kind: reference.kind, image: reference.image.description,
                        oldTag: reference.tag, newTag: tag, oldDigest: reference.digest?.description, newDigest: digest?.description))
            }
        }

        let ordered = edits.sorted { $0.key.lowerBound < $1.key.lowerBound }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where previous.key.overlaps(next.key) {
            throw UpdateError(code: .conflictingEdits, file: file, detail: "two edits overlap at byte \(next.key.lowerBound)")
        }
        var updated = bytes
        for (range, replacement) in ordered.reversed() { updated.replaceSubrange(range, with: replacement) }
        if updated != bytes {
            try verify(file: file, updated: updated, image: request.image, references: references, expected: expected)
        }
        return FileUpdate(file: file, original: bytes, updated: updated, changes: changes, upToDate: upToDate, leftAlone: leftAlone)
    }

    /// The new bytes for one slot; a plain scalar that would stop being a string gets quotes.
    static func replacement(for slot: ValueSlot, in bytes: [UInt8], tag: String?, digest: Digest?) -> [UInt8] {
        let text: String
        switch slot.shape {
        case .referenceSuffix:
            text = (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
        case .tag:
            let hadDigest = bytes[slot.range].contains(UInt8(ascii: "@"))
            text = (tag ?? "") + (hadDigest ? digest.map { "@\($0)" } ?? "" : "")
        case .digest:
            guard let digest else {
                // No digest asked for: an empty or null one (`digest:`, `~`, `null`) stays exactly as it is.
                let existing = Array(bytes[slot.range])
                if slot.style == .plain, existing.isEmpty || ["~", "null", "Null", "NULL"].contains(String(decoding: existing, as: UTF8.self)) {
                    return existing
                }
                text = ""
                break
            }
            // Filling `digest:` that had no value: after the colon, with a space.
            if slot.range.isEmpty, slot.range.lowerBound > 0, bytes[slot.range.lowerBound - 1] == UInt8(ascii: ":") {
                return Array(" \(digest)".utf8)
            }
            text = digest.description
        }
        if slot.style == .plain, slot.shape != .referenceSuffix, !PlainScalarType.isString(text) {
            return Array("\"\(text)\"".utf8)
        }
        return Array(text.utf8)
    }

    /// Extracts again and checks every reference now says what was intended, in the same place.
    func verify(
        file: String, updated: [UInt8], image: ImageName, references: [Reference], expected: [Reference: (String?, Digest?)]
    ) throws(UpdateError) {
        let again = extractor.extract(file: file, bytes: updated, image: image)
        func fail(_ detail: String) -> UpdateError { UpdateError(code: .verificationFailed, file: file, detail: detail) }
        if let skipped = again.skipped { throw fail("the edited file no longer parses (\(skipped.reason))") }
        guard again.references.count == references.count else {
            throw fail("the edited file has \(again.references.count) references where \(references.count) were expected")
        }
        for (before, after) in zip(references, again.references) {
            guard let (tag, digest) = expected[before] else { continue }
            guard after.line == before.line, after.kind == before.kind, after.tag == tag, after.digest == digest else {
                throw fail(
                    "line \(before.line): expected \(tag ?? "-")@\(digest?.description ?? "-") after the edit but read \(after.tag ?? "-")@\(after.digest?.description ?? "-") on line \(after.line)"
                )
            }
        }
    }
}
