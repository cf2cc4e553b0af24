#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small byte-scanning helpers shared by the parsers. All work on a line's `UnsafeRawBufferPointer` and indices.
public enum Bytes {
    /// The index of the first `byte` in `p[from..<to]`, or `nil`. Uses `memchr`.
    public static func find(_ byte: UInt8, in p: UnsafeRawBufferPointer, from: Int, to: Int? = nil) -> Int? {
        let end = to ?? p.count
        guard from < end, let base = p.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), end - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// The index of the first occurrence of `needle` in `p[from..<to]`, or `nil`: `memchr` for the first byte,
    /// then a comparison of the rest.
    public static func find(
        _ needle: StaticString, in p: UnsafeRawBufferPointer, from: Int, to: Int? = nil
    ) -> Int? {
        let end = to ?? p.count
        return needle.withUTF8Buffer { nb -> Int? in
            guard let first = nb.first, from >= 0, nb.count <= end - from else { return nil }
            var i = from
            let lastStart = end - nb.count
            while i <= lastStart, let hit = find(first, in: p, from: i, to: lastStart + 1) {
                var k = 1
                while k < nb.count && p[hit + k] == nb[k] { k += 1 }
                if k == nb.count { return hit }
                i = hit + 1
            }
            return nil
        }
    }

    /// The index of the last occurrence of `needle` in `p[from..<to]`, or `nil`.
    public static func findLast(
        _ needle: StaticString, in p: UnsafeRawBufferPointer, from: Int, to: Int? = nil
    ) -> Int? {
        var last: Int?
        var i = from
        let end = to ?? p.count
        while let hit = find(needle, in: p, from: i, to: end) {
            last = hit
            i = hit + 1
        }
        return last
    }

    /// Whether `p[at...]` starts with `prefix`.
    public static func hasPrefix(_ prefix: StaticString, in p: UnsafeRawBufferPointer, at: Int) -> Bool {
        prefix.withUTF8Buffer { pb in
            guard at >= 0, at + pb.count <= p.count else { return false }
            for k in 0..<pb.count where p[at + k] != pb[k] { return false }
            return true
        }
    }

    /// Whether `p[range]` equals `text`.
    public static func equals(_ text: StaticString, in p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        text.withUTF8Buffer { range.count == $0.count && hasPrefix(text, in: p, at: range.lowerBound) }
    }

    /// Whether `p[range]` ends with `suffix`.
    public static func hasSuffix(_ suffix: StaticString, in p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        suffix.withUTF8Buffer { sb in
            range.count >= sb.count && hasPrefix(suffix, in: p, at: range.upperBound - sb.count)
        }
    }

    /// Makes a `String` from `p[range]`, replacing invalid UTF-8 with U+FFFD.
    public static func string(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: p[range]), as: UTF8.self)
    }

    /// Case-insensitive ASCII comparison of `p[range]` with `text` (given in lower case).
    public static func equalsIgnoringCase(_ text: String, in p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let t = text.utf8
        guard t.count == range.count else { return false }
        var i = range.lowerBound
        for c in t {
            var b = p[i]
            if b >= 0x41 && b <= 0x5A { b |= 0x20 }
            var cc = c
            if cc >= 0x41 && cc <= 0x5A { cc |= 0x20 }
            if b != cc { return false }
            i += 1
        }
        return true
    }

    /// A 64-bit FNV-1a hash of `p[range]`, for byte-keyed hash tables.
    public static func hash(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in range {
            h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3
        }
        return h
    }
}
