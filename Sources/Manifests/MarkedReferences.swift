import ImageReference

/// Turns marker comments and the values standing on their lines into references.
///
/// A `:tag` marker is paired with the nearest `:name` marker of the same image in the file
/// (for `nameLine`); a `:name` marker with no `:tag` partner is reported without a tag.
enum MarkedReferences {
    static func build(
        _ markers: [MarkerComment], values: [Int: LocatedScalar], source: SourceText, file: String
    ) -> (references: [Reference], problems: [MarkerProblem]) {
        var references: [Reference] = []
        var problems: [MarkerProblem] = []
        let nameLines = Dictionary(grouping: markers.filter { $0.field == .name }, by: \.image).mapValues { $0.map(\.line) }
        let taggedImages = Set(markers.filter { $0.field == .tag }.map(\.image))

        for marker in markers {
            // The value must stand before the comment on the marker's line.
            guard let value = values[marker.line], value.range.upperBound <= marker.commentStart else {
                if marker.field != .name {
                    problems.append(MarkerProblem(file: file, line: marker.line, message: "the marker has no value before it on its line"))
                }
                continue
            }
            let (line, column) = source.position(of: value.range.lowerBound)
            func problem(_ message: String) { problems.append(MarkerProblem(file: file, line: marker.line, message: message)) }
            switch marker.field {
            case .whole:
                guard let parsed = try? ImageReference(parsing: value.value) else {
                    problem(
                        "the value \"\(value.value)\" is not an image reference, but its marker says it is one (use :tag or :name for split fields)"
                    )
                    continue
                }
                guard parsed.name == marker.image else {
                    problem("the marker names \(marker.image) but the value is \(parsed.name); it is left alone")
                    continue
                }
                let suffix = ValueSlot(
                    shape: .referenceSuffix, range: value.range.lowerBound + parsed.writtenNameLength..<value.range.upperBound,
                    style: value.style)
                let at = source.position(of: YAMLWalker.suffixValueStart(suffix, in: source))
                let hasValue = parsed.tag != nil || parsed.digest != nil
                references.append(
                    Reference(
                        file: file, kind: marker.kind, image: marker.image, tag: parsed.tag, digest: parsed.digest,
                        line: hasValue ? at.line : line, column: hasValue ? at.column : column, nameLine: line, slots: [suffix]))
            case .tag:
                guard let tag = TagValue(value.value) else {
                    problem("the value \"\(value.value)\" is not a tag (1–128 of [A-Za-z0-9_.-], optionally @digest)")
                    continue
                }
                let nameLine = nearest(nameLines[marker.image] ?? [], to: line) ?? line
                references.append(
                    Reference(
                        file: file, kind: marker.kind, image: marker.image, tag: tag.tag, digest: tag.digest,
                        line: line, column: column, nameLine: nameLine,
                        slots: [ValueSlot(shape: .tag, range: value.range, style: value.style)]))
            case .name:
                guard !taggedImages.contains(marker.image) else { continue }
                references.append(
                    Reference(
                        file: file, kind: marker.kind, image: marker.image, tag: nil, digest: nil,
                        line: line, column: column, nameLine: line, slots: []))
            }
        }
        return (references, problems)
    }

    /// The closest line, preferring one above.
    private static func nearest(_ lines: [Int], to line: Int) -> Int? {
        lines.min { (abs($0 - line), $0 > line ? 1 : 0) < (abs($1 - line), $1 > line ? 1 : 0) }
    }
}
