import ImageReference

/// How a reference is written in a manifest.
public enum ReferenceKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A mapping key `image:` whose value is a whole reference (Kubernetes, Compose, anything).
    case image
    /// A Helm-values style mapping `{registry?, repository, tag?, digest?}` under any key.
    case helmValues = "helm-values"
    /// An entry of a Kustomize (or Flux Kustomization) `images:` list.
    case kustomize
    /// Argo CD Application `helm.parameters` (`image.repository` + `image.tag`).
    case argocdParameters = "argocd-parameters"
    /// A value annotated with an `# imagebump: IMAGE[:tag|:name]` comment.
    case marker
    /// A value annotated with a Flux `# {"$imagepolicy": "ns:policy[:tag|:name]"}` comment.
    case fluxMarker = "flux-marker"
}

/// How a scalar is written, which decides whether a new value needs quotes.
public enum ScalarStyle: Sendable, Hashable {
    case plain, singleQuoted, doubleQuoted
    /// Text outside YAML (a marker in any other file type): never re-quoted.
    case raw
}

/// A byte range in a file whose text can be replaced to move a reference to a new tag or digest.
public struct ValueSlot: Sendable, Hashable {
    /// What the bytes in ``range`` hold.
    public enum Shape: Sendable, Hashable {
        /// The `:tag@digest` suffix of a whole reference (possibly empty).
        case referenceSuffix
        /// A scalar holding a tag, possibly followed by `@digest`.
        case tag
        /// A scalar holding only a digest (possibly empty).
        case digest
    }

    public let shape: Shape
    /// The bytes of the value, inside any quotes.
    public let range: Range<Int>
    public let style: ScalarStyle

    public init(shape: Shape, range: Range<Int>, style: ScalarStyle) {
        self.shape = shape
        self.range = range
        self.style = style
    }
}

/// One place in one file where an image is referenced.
public struct Reference: Sendable, Hashable {
    /// The file, relative to the repository root, `/`-separated.
    public let file: String
    public let kind: ReferenceKind
    /// The normalised repository this reference points at.
    public let image: ImageName
    public let tag: String?
    public let digest: Digest?
    /// 1-based line and column of the tag's value, else the digest's, else the image name's.
    public let line: Int
    public let column: Int
    /// 1-based line where the image name stands.
    public let nameLine: Int
    /// Where the tag and digest can be rewritten; empty when the reference is reported only.
    public let slots: [ValueSlot]

    public init(
        file: String, kind: ReferenceKind, image: ImageName, tag: String?, digest: Digest?,
        line: Int, column: Int, nameLine: Int, slots: [ValueSlot]
    ) {
        self.file = file
        self.kind = kind
        self.image = image
        self.tag = tag
        self.digest = digest
        self.line = line
        self.column = column
        self.nameLine = nameLine
        self.slots = slots
    }

    /// A reference without tag and digest (`image: nginx`, a Kustomize placeholder) is never
    /// edited: adding a tag would change what it means.
    public var isEditable: Bool { (tag != nil || digest != nil) && !slots.isEmpty }
}

/// A file the extractor could not read as a manifest, and why. Never fatal.
public struct SkippedFile: Sendable, Hashable {
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
}
