import ImageReference
import Yams

/// Walks one parsed YAML document and records every image reference it recognises.
///
/// Aliased nodes carry their anchor's position, so a node reached twice is visited once: an
/// anchor is edited once, and an alias bomb costs no more than the text it is written in.
struct YAMLWalker {
    let source: SourceText
    let file: String
    /// Lines holding a marker comment; the walker records the value scalar standing on each.
    let markerLines: Set<Int>
    /// Added to every line and column libyaml reports (for YAML nested in a block scalar).
    var lineOffset = 0
    var columnOffset = 0

    private(set) var references: [Reference] = []
    /// The last value scalar standing on each marker line.
    var markerValues: [Int: LocatedScalar] = [:]
    /// Marker lines that lie inside a block scalar (`|`, `>`): text, not values.
    private(set) var markerLinesInBlocks: Set<Int> = []
    private var visited: Set<Int> = []
    private var budget: Int

    init(source: SourceText, file: String, markerLines: Set<Int>, nodeBudget: Int) {
        self.source = source
        self.file = file
        self.markerLines = markerLines
        self.budget = nodeBudget
    }

    struct BudgetExceeded: Error {}

    mutating func walk(_ node: Node, key: String? = nil) throws {
        budget -= 1
        if budget < 0 { throw BudgetExceeded() }
        switch node {
        case .scalar(let scalar):
            recordMarkerValue(scalar)
        case .sequence(let sequence):
            guard firstVisit(sequence.mark) else { return }
            for item in sequence { try walk(item, key: key) }
        case .mapping(let mapping):
            guard firstVisit(mapping.mark) else { return }
            if key == "annotations" || key == "labels" { return }  // free text, never references
            let fields = Fields(mapping)
            recordHelmValues(fields, key: key)
            if key == "helm" { recordArgoCD(fields) }
            for (childKey, value) in fields.pairs {
                switch (childKey, value) {
                case ("image", .scalar(let scalar)): recordImageField(scalar)
                case ("images", .sequence(let entries)): recordKustomizeImages(entries, argoCD: key == "kustomize")
                default: break
                }
                try walk(value, key: childKey)
            }
        case .alias:
            return
        }
    }

    private mutating func firstVisit(_ mark: Mark?) -> Bool {
        guard let mark else { return true }
        return visited.insert(mark.line << 20 | mark.column).inserted
    }

    private func locate(_ scalar: Node.Scalar) -> LocatedScalar? {
        source.locate(scalar, lineOffset: lineOffset, columnOffset: columnOffset)
    }

    private mutating func recordMarkerValue(_ scalar: Node.Scalar) {
        guard !markerLines.isEmpty, let mark = scalar.mark else { return }
        if scalar.style == .literal || scalar.style == .folded {
            let first = mark.line + lineOffset + 1
            let last = first + scalar.string.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            markerLinesInBlocks.formUnion(markerLines.filter { (first...last).contains($0) })
            return
        }
        guard markerLines.contains(mark.line + lineOffset),
            let located = locate(scalar)
        else { return }
        markerValues[mark.line + lineOffset] = located
    }

    // MARK: - `image: ghcr.io/acme/api:1.4.2`

    private mutating func recordImageField(_ scalar: Node.Scalar) {
        guard let reference = try? ImageReference(parsing: scalar.string) else { return }
        let located = locate(scalar)
        let slots =
            located.map { value in
                [
                    ValueSlot(
                        shape: .referenceSuffix, range: value.range.lowerBound + reference.writtenNameLength..<value.range.upperBound,
                        style: value.style)
                ]
            } ?? []
        append(
            .image, reference.name, tag: reference.tag, digest: reference.digest, slots: slots, nameAt: located?.range.lowerBound,
            mark: scalar.mark)
    }

    // MARK: - Helm values `{registry?, repository, tag?, digest?}`

    private mutating func recordHelmValues(_ fields: Fields, key: String?) {
        guard case .scalar(let repository)? = fields["repository"] else { return }
        let lowerKey = key?.lowercased() ?? ""
        guard fields["tag"] != nil || fields["digest"] != nil || lowerKey.contains("image") else { return }
        var fullName = repository.string
        if case .scalar(let registry)? = fields["registry"], !registry.string.isEmpty {
            fullName = "\(registry.string)/\(fullName)"
        }
        guard let name = try? ImageName(parsing: fullName) else { return }
        recordSplitFields(.helmValues, name, nameScalar: repository, tag: scalarField(fields["tag"]), digest: scalarField(fields["digest"]))
    }

    private func scalarField(_ node: Node?) -> Node.Scalar? {
        if case .scalar(let scalar)? = node { return scalar }
        return nil
    }

    /// Records a reference whose name, tag and digest stand in separate scalars.
    private mutating func recordSplitFields(
        _ kind: ReferenceKind, _ name: ImageName, nameScalar: Node.Scalar, tag: Node.Scalar?, digest digestScalar: Node.Scalar?
    ) {
        var slots: [ValueSlot] = []
        var tagValue: String?
        var digestValue: Digest?
        var positionMark = nameScalar.mark
        var positionOffset: Int?
        if let tag, !Self.isEmptyValue(tag) {
            let split = TagValue(tag.string)
            guard let parsed = split else { return }  // not a tag we understand: not a reference
            tagValue = parsed.tag
            digestValue = parsed.digest
            if let located = locate(tag) {
                slots.append(ValueSlot(shape: .tag, range: located.range, style: located.style))
                positionOffset = located.range.lowerBound
            }
            positionMark = tag.mark
        }
        if let digestScalar {
            if !Self.isEmptyValue(digestScalar) {
                guard let parsed = try? Digest(parsing: digestScalar.string) else { return }
                digestValue = parsed
                if tagValue == nil { positionMark = digestScalar.mark }
            }
            if var located = locate(digestScalar) {
                if digestScalar.string.isEmpty, digestScalar.style == .plain || digestScalar.style == .any {
                    // `digest:` with nothing after it: the parser marks the next token; the value's
                    // place is right after the colon (an edit there writes ` sha256:…`).
                    var position = located.range.lowerBound
                    while position > 0, SourceText.isBlankOrBreak(source.bytes[position - 1]) { position -= 1 }
                    guard position > 0, source.bytes[position - 1] == UInt8(ascii: ":") else { return }
                    located = LocatedScalar(value: "", range: position..<position, style: .plain)
                }
                slots.append(ValueSlot(shape: .digest, range: located.range, style: located.style))
                if tagValue == nil, digestValue != nil { positionOffset = located.range.lowerBound }
            }
        }
        if tagValue == nil, digestValue == nil { slots = [] }
        append(
            kind, name, tag: tagValue, digest: digestValue, slots: slots, nameAt: locate(nameScalar)?.range.lowerBound,
            mark: positionMark, valueAt: positionOffset, nameMark: nameScalar.mark)
    }

    static func isEmptyValue(_ scalar: Node.Scalar) -> Bool {
        let value = scalar.string
        return value.isEmpty || (scalar.style == .plain && ["~", "null", "Null", "NULL"].contains(value))
    }

    // MARK: - Kustomize `images: [{name, newName?, newTag?, digest?}]`

    private mutating func recordKustomizeImages(_ entries: Node.Sequence, argoCD: Bool) {
        for entry in entries {
            if argoCD, case .scalar(let scalar) = entry {
                recordArgoCDKustomizeImage(scalar)
                continue
            }
            guard case .mapping(let mapping) = entry else { continue }
            let fields = Fields(mapping)
            guard case .scalar(let original)? = fields["name"] else { continue }
            let nameScalar = scalarField(fields["newName"]) ?? original
            guard let name = try? ImageName(parsing: nameScalar.string) else { continue }
            recordSplitFields(
                .kustomize, name, nameScalar: nameScalar, tag: scalarField(fields["newTag"]), digest: scalarField(fields["digest"]))
        }
    }

    /// Argo CD's `kustomize.images` strings (an Application's `spec.source(s)`, Image Updater's
    /// `.argocd-source-APP.yaml`): `ghcr.io/acme/api:1.2.3`, `name=newName:tag`,
    /// `name@sha256:…`; the tag and digest after the (new) name are the value, so a bump
    /// writes back the same form.
    private mutating func recordArgoCDKustomizeImage(_ scalar: Node.Scalar) {
        let text = scalar.string
        let override = text.firstIndex(of: "=").map { text[text.index(after: $0)...] } ?? Substring(text)
        let offset = text.utf8.count - override.utf8.count
        guard let reference = try? ImageReference(parsing: String(override)) else { return }
        let located = locate(scalar)
        let slots =
            located.map { value in
                [
                    ValueSlot(
                        shape: .referenceSuffix, range: value.range.lowerBound + offset + reference.writtenNameLength..<value.range.upperBound,
                        style: value.style)
                ]
            } ?? []
        append(
            .kustomize, reference.name, tag: reference.tag, digest: reference.digest, slots: slots,
            nameAt: located.map { $0.range.lowerBound + offset }, mark: scalar.mark)
    }

    // MARK: - Argo CD `spec.source.helm`

    private mutating func recordArgoCD(_ fields: Fields) {
        if case .sequence(let parameters)? = fields["parameters"] { recordArgoCDParameters(parameters) }
        if case .scalar(let values)? = fields["values"], values.style == .literal { recordNestedValues(values) }
    }

    /// Groups `X.repository`, `X.registry`, `X.tag`, `X.digest` parameters by their prefix `X`.
    /// `X.name` stands for `X.repository` when a tag or digest goes with it: Argo CD Image
    /// Updater's default parameter names (`image.name`, `image.tag`) in `.argocd-source-APP.yaml`.
    private mutating func recordArgoCDParameters(_ parameters: Node.Sequence) {
        var groups: [String: [String: Node.Scalar]] = [:]
        var order: [String] = []
        for parameter in parameters {
            guard case .mapping(let mapping) = parameter else { continue }
            let fields = Fields(mapping)
            guard case .scalar(let name)? = fields["name"], case .scalar(let value)? = fields["value"],
                let dot = name.string.lastIndex(of: ".")
            else { continue }
            let prefix = String(name.string[..<dot])
            let field = String(name.string[name.string.index(after: dot)...])
            guard ["repository", "name", "registry", "tag", "digest"].contains(field) else { continue }
            if groups[prefix] == nil { order.append(prefix) }
            groups[prefix, default: [:]][field] = value
        }
        for prefix in order {
            guard let group = groups[prefix],
                let repository = group["repository"] ?? (group["tag"] ?? group["digest"]).flatMap({ _ in group["name"] })
            else { continue }
            var fullName = repository.string
            if let registry = group["registry"], !registry.string.isEmpty { fullName = "\(registry.string)/\(fullName)" }
            guard let name = try? ImageName(parsing: fullName) else { continue }
            recordSplitFields(.argocdParameters, name, nameScalar: repository, tag: group["tag"], digest: group["digest"])
        }
    }

    /// `helm.values: |` holds a YAML document as text; its references are found by parsing that
    /// text and mapping each position back to the block's lines (indentation added back).
    private mutating func recordNestedValues(_ block: Node.Scalar) {
        guard let mark = block.mark else { return }
        let blockLine = mark.line + lineOffset
        guard blockLine < source.lineStarts.count else { return }
        var indentation = 0
        for line in (blockLine + 1)...source.lineStarts.count {
            let range = source.lineRange(line)
            if range.isEmpty { continue }
            indentation = source.bytes[range].prefix(while: { $0 == 0x20 }).count
            break
        }
        guard indentation > 0, let root = try? Parser(yaml: block.string, resolver: .basic, encoding: .utf8).singleRoot() else { return }
        // Re-walk the nested document against the outer source: its lines start `indentation`
        // columns in, `blockLine` lines down. Positions are verified byte for byte by `locate`.
        var nested = YAMLWalker(source: source, file: file, markerLines: [], nodeBudget: budget)
        nested.lineOffset = blockLine
        nested.columnOffset = indentation
        try? nested.walk(root)
        references += nested.references
    }

    // MARK: - Recording

    private mutating func append(
        _ kind: ReferenceKind, _ image: ImageName, tag: String?, digest: Digest?, slots: [ValueSlot], nameAt: Int?, mark: Mark?,
        valueAt: Int? = nil, nameMark: Mark? = nil
    ) {
        let (line, column): (Int, Int)
        // No tag and no digest (`image: mongo`): the reference is where its name is.
        let bare = tag == nil && digest == nil && slots.allSatisfy { $0.shape == .referenceSuffix && $0.range.isEmpty }
        if bare, let name = nameAt {
            (line, column) = source.position(of: name)
        } else if let offset = valueAt
            ?? slots.first.map({ $0.shape == .referenceSuffix ? Self.suffixValueStart($0, in: source) : $0.range.lowerBound })
        {
            (line, column) = source.position(of: offset)
        } else if let mark {
            (line, column) = (mark.line + lineOffset, mark.column + columnOffset)
        } else {
            return
        }
        let nameLine = nameAt.map { source.position(of: $0).line } ?? (nameMark ?? mark).map { $0.line + lineOffset } ?? line
        references.append(
            Reference(
                file: file, kind: kind, image: image, tag: tag, digest: digest, line: line, column: column, nameLine: nameLine, slots: slots
            ))
    }

    /// In `name:tag@digest`, the value a person looks for is the tag (else the digest).
    static func suffixValueStart(_ slot: ValueSlot, in source: SourceText) -> Int {
        slot.range.isEmpty ? slot.range.lowerBound : slot.range.lowerBound + 1
    }
}

/// A mapping's entries with scalar keys, in order; `<<` merge keys are resolved (own keys win).
struct Fields {
    private(set) var pairs: [(String, Node)] = []
    private var index: [String: Node] = [:]

    init(_ mapping: Node.Mapping) {
        var merged: [(String, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else { continue }
            if scalar.string == "<<", scalar.style == .plain {
                let sources: [Node]
                if case .sequence(let list) = value { sources = Array(list) } else { sources = [value] }
                for case .mapping(let source) in sources {
                    for (mergedKey, mergedValue) in source { if case .scalar(let k) = mergedKey { merged.append((k.string, mergedValue)) } }
                }
                continue
            }
            pairs.append((scalar.string, value))
            index[scalar.string] = value
        }
        for (key, value) in merged where index[key] == nil { index[key] = value }
    }

    subscript(key: String) -> Node? { index[key] }
}

/// A tag scalar's value: `1.4.2` or `1.4.2@sha256:…`.
struct TagValue {
    let tag: String
    let digest: Digest?

    init?(_ text: String) {
        if let at = text.firstIndex(of: "@") {
            guard let digest = try? Digest(parsing: text[text.index(after: at)...]) else { return nil }
            self.digest = digest
            self.tag = String(text[..<at])
        } else {
            self.digest = nil
            self.tag = text
        }
        guard ImageReference.isValidTag(tag) else { return nil }
    }
}
