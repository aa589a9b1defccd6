/// What a bump does to digests: a tag policy's `digest:` setting, and what a `BumpRequest`
/// carries into the manifest engine (one type for both).
public enum DigestMode: String, Sendable, Hashable, CaseIterable {
    /// Leave digests alone: a `tag@digest` pin gets the request's digest (or loses its stale
    /// one); plain tags stay plain.
    case keep
    /// Plain `name:tag` references become `name:tag@digest` when the request carries a digest.
    case pin
    /// References pinned by digest move only on digest-only requests; tag requests leave them.
    case only
}
