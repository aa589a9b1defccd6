import Foundation
import Synchronization

/// UTC timestamps as `2026-11-23T08:50:18Z`, formatted with `gmtime_r` and no ICU: a
/// formatter object per journal write showed up as a quarter of intake's CPU time.
package enum Timestamp {
    package static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}

/// Event ids: UUID version 7 (RFC 9562), a millisecond timestamp followed by random bits, so
/// new ids sort after old ones and the journal's indexes grow at their end instead of
/// rewriting a random page for each event.
public enum EventID {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Random words drawn from the kernel 64 at a time (a `getrandom` per id showed in profiles).
    private static let pool = Mutex<(words: [UInt64], next: Int)>(([], 0))

    private static func randomWords() -> (UInt64, UInt64) {
        pool.withLock { pool in
            if pool.next + 2 > pool.words.count {
                pool.words = [UInt64](repeating: 0, count: 64)
                pool.words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }  // glibc ≥ 2.36: getrandom-seeded
                pool.next = 0
            }
            defer { pool.next += 2 }
            return (pool.words[pool.next], pool.words[pool.next + 1])
        }
    }

    /// The time an id was made (milliseconds since 1970), read from its first 48 bits.
    public static func milliseconds(_ id: String) -> Int64? {
        let hex = id.utf8.filter { $0 != UInt8(ascii: "-") }.prefix(12)
        guard hex.count == 12, let value = Int64(String(decoding: hex, as: UTF8.self), radix: 16) else { return nil }
        return value
    }

    package static func make(_ date: Date = Date()) -> String {
        let milliseconds = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        let (first, second) = randomWords()
        let high = (milliseconds << 16) | 0x7000 | (first & 0x0FFF)  // 48-bit time, version 7, 12 random bits
        let low = (second & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10, 62 random bits
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if index == 8 || index == 12 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int((high >> UInt64(shift)) & 0xF)])
        }
        for (index, shift) in stride(from: 60, through: 0, by: -4).enumerated() {
            if index == 0 || index == 4 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int((low >> UInt64(shift)) & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
