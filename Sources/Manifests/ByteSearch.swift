#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Substring search over bytes with libc's `memchr` and `memcmp`.
enum ByteSearch {
    static func firstRange(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Range<Int>? {
        guard start < haystack.count else { return nil }
        return haystack.withUnsafeBytes { buffer in
            firstRange(of: needle, in: UnsafeRawBufferPointer(rebasing: buffer[start...])).map {
                ($0.lowerBound + start)..<($0.upperBound + start)
            }
        }
    }

    static func firstRange(of needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Range<Int>? {
        guard let base = haystack.baseAddress, let first = needle.first, haystack.count >= needle.count else { return nil }
        return needle.withUnsafeBytes { needleBytes -> Range<Int>? in
            guard let needleBase = needleBytes.baseAddress else { return nil }
            let last = haystack.count - needle.count  // the last offset a match can start at
            var offset = 0
            while offset <= last {
                // memchr finds the candidate first byte at memory speed; memcmp checks the rest.
                guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return nil }
                let candidate = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + candidate, needleBase, needle.count) == 0 { return candidate..<(candidate + needle.count) }
                offset = candidate + 1
            }
            return nil
        }
    }

    static func contains(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Bool {
        firstRange(of: needle, in: haystack) != nil
    }
}
