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
    /// then a comparison of the rest. (glibc's `memmem` was measured slower on the short haystacks of log lines.)
    ///
    /// - Complexity: O(`to - from`) for the needles we use (no long self-overlapping prefixes).
    @inline(__always)
    public static func find(
        _ needle: StaticString, in p: UnsafeRawBufferPointer, from: Int, to: Int? = nil
    ) -> Int? {
        let end = to ?? p.count
        return withBytes(needle) { nb, nc -> Int? in
            guard nc > 0, from >= 0, end <= p.count, nc <= end - from else { return nil }
            let first = nb.load(as: UInt8.self)
            var i = from
            let lastStart = end - nc
            while i <= lastStart, let hit = find(first, in: p, from: i, to: lastStart + 1) {
                if matches(nb + 1, nc - 1, in: p, at: hit + 1) { return hit }
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

    /// Calls `body` with a pointer to `text`'s UTF-8 bytes and their count, without the closure of
    /// `withUTF8Buffer` in the common case (a string literal has a pointer representation).
    @inline(__always)
    static func withBytes<R>(_ text: StaticString, _ body: (UnsafeRawPointer, Int) -> R) -> R {
        if text.hasPointerRepresentation {
            return body(UnsafeRawPointer(text.utf8Start), text.utf8CodeUnitCount)
        }
        return text.withUTF8Buffer { b in
            // A scalar literal: at most 4 bytes, copied to a local so the pointer is valid inside `body`.
            withUnsafeBytes(
                of: (
                    b.count > 0 ? b[0] : 0, b.count > 1 ? b[1] : 0, b.count > 2 ? b[2] : 0,
                    b.count > 3 ? b[3] : 0
                )
            ) { body($0.baseAddress!, b.count) }
        }
    }

    /// Whether `p[at...]` starts with `prefix`.
    ///
    /// - Complexity: O(length of `prefix`); `memcmp`, which the optimiser turns into loads for literals.
    @inline(__always)
    public static func hasPrefix(_ prefix: StaticString, in p: UnsafeRawBufferPointer, at: Int) -> Bool {
        withBytes(prefix) { pb, pc in matches(pb, pc, in: p, at: at) }
    }

    /// Whether `p[range]` equals `text`.
    @inline(__always)
    public static func equals(_ text: StaticString, in p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        withBytes(text) { tb, tc in range.count == tc && matches(tb, tc, in: p, at: range.lowerBound) }
    }

    /// Whether `p[range]` ends with `suffix`.
    @inline(__always)
    public static func hasSuffix(_ suffix: StaticString, in p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        withBytes(suffix) { sb, sc in range.count >= sc && matches(sb, sc, in: p, at: range.upperBound - sc) }
    }

    /// Whether the `count` bytes at `bytes` equal `p[at..<at + count]` (false when that range leaves `p`).
    @inline(__always)
    static func matches(_ bytes: UnsafeRawPointer, _ count: Int, in p: UnsafeRawBufferPointer, at: Int) -> Bool {
        guard at >= 0, count <= p.count - at else { return false }
        guard count > 0, let base = p.baseAddress else { return true }
        // Safe: base + at ..< base + at + count lies inside `p` (checked above).
        return memcmp(base + at, bytes, count) == 0
    }

    /// Whether the `count` bytes at `a` equal the `count` bytes at `b`, compared with word loads inline: for
    /// short fields, where a `memcmp` call costs more than the comparison.
    ///
    /// - Precondition: `count` bytes are readable at both pointers (the caller's ranges).
    /// - Complexity: O(`count` / 8).
    @inline(__always)
    package static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        if count >= 8 {
            var i = 0
            while i + 8 < count {
                if a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    != b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                {
                    return false
                }
                i += 8
            }
            // The last 8 bytes, overlapping the previous word: every load stays inside the `count` bytes.
            return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        if count >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                    == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        }
        var i = 0
        while i < count {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// Whether every byte of the `count` bytes at `a` is ASCII (below 0x80), eight bytes per step.
    ///
    /// - Precondition: `count` bytes are readable at `a`.
    /// - Complexity: O(`count` / 8).
    @inline(__always)
    package static func isASCII(_ a: UnsafeRawPointer, count: Int) -> Bool {
        let high: UInt64 = 0x8080_8080_8080_8080
        var any: UInt64 = 0
        var i = 0
        while i + 8 <= count {
            any |= a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            any |= UInt64(a.load(fromByteOffset: i, as: UInt8.self))
            i += 1
        }
        return any & high == 0
    }

    /// Whether `p` holds only spaces, tabs and carriage returns (or nothing).
    ///
    /// - Complexity: O(length), for lines already found unusable.
    public static func isBlank(_ p: UnsafeRawBufferPointer) -> Bool {
        for c in p where c != 0x20 && c != 0x09 && c != 0x0D { return false }
        return true
    }

    /// Whether `p` is one of the marker lines `journalctl` writes between records: `-- Boot 0123abcd… --`,
    /// `-- Journal begins at …, ends at … --`, `-- Logs begin at … --`, `-- No entries --`, `-- Reboot --`.
    /// They carry no log record, so the parsers count them irrelevant rather than as broken timestamps.
    ///
    /// - Complexity: O(1).
    public static func isJournalMarker(_ p: UnsafeRawBufferPointer) -> Bool {
        let n = p.count
        return n >= 6 && p[0] == UInt8(ascii: "-") && p[1] == UInt8(ascii: "-") && p[2] == 0x20
            && p[n - 3] == 0x20 && p[n - 2] == UInt8(ascii: "-") && p[n - 1] == UInt8(ascii: "-")
    }

    /// Makes a `String` from `p[range]`, replacing invalid UTF-8 with U+FFFD.
    ///
    /// A value of at most 15 bytes is written straight into the string's inline storage, which the standard
    /// library then only checks for ASCII (the same `String` as `String(decoding:as:)`, which validates it
    /// byte by byte first, at about three times the instructions); a longer one is decoded as usual.
    ///
    /// - Complexity: O(length of the range); allocates only above 15 bytes.
    public static func string(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        let bytes = UnsafeRawBufferPointer(rebasing: p[range])
        guard bytes.count <= 15, let source = bytes.baseAddress else {
            return String(decoding: bytes, as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: bytes.count) { target in
            // Safe: `target` holds `bytes.count` bytes (the capacity asked for).
            UnsafeMutableRawPointer(target.baseAddress!).copyMemory(from: source, byteCount: bytes.count)
            return bytes.count
        }
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

    /// The value of the hexadecimal digit `b` (`0`-`9`, `A`-`F`, `a`-`f`), or `nil` for any other byte: one
    /// definition for the parsers that read hex (IPv6 groups, RFC 2047 Q-encoding, JSON `\u` escapes).
    @inline(__always)
    package static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// A 64-bit FNV-1a hash of `p[range]`, for byte-keyed hash tables.
    public static func hash(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in range {
            h = (h ^ UInt64(p[i])) &* 0x100_0000_01b3
        }
        return h
    }

    /// A 64-bit hash of `p[range]` that reads eight bytes at a time: for hash tables and caches inside one
    /// process (fixed, not seeded; not the same values as ``hash(_:_:)``).
    ///
    /// - Complexity: O(length of the range / 8).
    @inline(__always)
    public static func wordHash(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: range.count)
        guard let base = p.baseAddress, range.lowerBound >= 0, range.upperBound <= p.count else { return h }
        var i = range.lowerBound
        let end = range.upperBound
        // Safe: every load below reads 8 bytes inside `range`, which lies inside `p` (checked above).
        while i + 8 <= end {
            h = (h ^ (base + i).loadUnaligned(as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        if i < end {
            var w: UInt64
            if range.count >= 8 {
                // The last 8 bytes, overlapping the previous word.
                w = (base + end - 8).loadUnaligned(as: UInt64.self)
            } else {
                // Fewer than 8 bytes, as a big-endian number (the first byte highest). Read as one word when 8
                // bytes from the start (or up to the end) lie inside `p`, which is nearly always (a host name, a
                // program in the middle of a line): the same value as the byte loop below, which only buffers
                // shorter than 8 bytes take.
                let n = end - i
                if i + 8 <= p.count {
                    // Safe: 8 bytes from `base + i` lie inside `p` (checked). The bytes after `end` are shifted out.
                    let x = UInt64(littleEndian: (base + i).loadUnaligned(as: UInt64.self))
                    w = x.byteSwapped >> UInt64(64 - 8 * n)
                } else if end >= 8 {
                    // Safe: the 8 bytes before `end` lie inside `p` (end <= p.count). Those before `i` are masked.
                    let x = UInt64(littleEndian: (base + end - 8).loadUnaligned(as: UInt64.self))
                    w = x.byteSwapped & ((1 << UInt64(8 * n)) &- 1)
                } else {
                    w = 0
                    var k = i
                    while k < end {
                        w = (w << 8) | UInt64((base + k).load(as: UInt8.self))
                        k += 1
                    }
                }
            }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 29
        }
        return (h ^ (h >> 32)) &* 0xBF58_476D_1CE4_E5B9
    }

    /// The index of the first byte of `p[from..<to]` equal to `a`, `b` or `c`, or `to` when there is none.
    ///
    /// An inline scan, eight bytes per step (SWAR), for the short fields of a syslog header where a `memchr`
    /// call costs more than the scan.
    ///
    /// - Complexity: O(`to - from`).
    @inline(__always)
    public static func scan(
        to a: UInt8, _ b: UInt8, _ c: UInt8, in p: UnsafeRawBufferPointer, from: Int, to: Int
    ) -> Int {
        guard let base = p.baseAddress, from >= 0, to <= p.count else { return max(from, to) }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let ra = ones &* UInt64(a)
        let rb = ones &* UInt64(b)
        let rc = ones &* UInt64(c)
        var i = from
        // Safe: each load reads base + i ..< base + i + 8 with i + 8 <= to <= p.count.
        while i + 8 <= to {
            let w = UInt64(littleEndian: (base + i).loadUnaligned(as: UInt64.self))
            let m = zeroBytes(w ^ ra) | zeroBytes(w ^ rb) | zeroBytes(w ^ rc)
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < to {
            let x = p[i]
            if x == a || x == b || x == c { return i }
            i += 1
        }
        return to
    }

    /// The index of the last byte of `p[from..<to]` equal to `a` or `b`, or `nil`: a backward
    /// ``scan(to:_:_:in:from:to:)``, eight bytes per step.
    ///
    /// - Complexity: O(`to - from`).
    @inline(__always)
    package static func scanBackward(
        to a: UInt8, _ b: UInt8, in p: UnsafeRawBufferPointer, from: Int, to: Int
    ) -> Int? {
        guard let base = p.baseAddress, from >= 0, to <= p.count else { return nil }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let ra = ones &* UInt64(a)
        let rb = ones &* UInt64(b)
        var i = to
        // Safe: each load reads base + i - 8 ..< base + i with from <= i - 8 and i <= to <= p.count.
        while i - 8 >= from {
            let w = UInt64(littleEndian: (base + i - 8).loadUnaligned(as: UInt64.self))
            let m = zeroBytes(w ^ ra) | zeroBytes(w ^ rb)
            if m != 0 { return i - 8 + (63 - m.leadingZeroBitCount) >> 3 }
            i -= 8
        }
        while i > from {
            i -= 1
            let x = p[i]
            if x == a || x == b { return i }
        }
        return nil
    }

    /// 0x80 in each byte of `w` that is at least `low` and at most `high`, 0 in every other byte; exact for
    /// the bytes below 0x80 (for the others the result is unspecified: mask them with `~w`).
    ///
    /// - Precondition: `low` and `high` are below 0x80.
    @inline(__always)
    package static func inRange(_ w: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        // Seven bits per byte, so no sum below carries into the next byte.
        let x = w & 0x7F7F_7F7F_7F7F_7F7F
        let atLeast = x &+ ones &* UInt64(0x80 - low)
        let above = x &+ ones &* UInt64(0x7F - high)
        return atLeast & ~above & 0x8080_8080_8080_8080
    }

    /// 0x80 in each byte of `x` that is zero, 0 in every other byte (exact: no false positives).
    @inline(__always)
    static func zeroBytes(_ x: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((x & low7) &+ low7) | x | low7)
    }
}
