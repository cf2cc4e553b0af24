/// Recognises Exim message ids and packs them into a fixed-size key.
///
/// Exim up to 4.96 writes `1xXXZj-0000c0-39` (6-6-2 base-62 characters, 16 bytes); 4.97 and later write
/// `10HmaX-000000005vi-0000` (6-11-4, 23 bytes). Both fit in ``EximMessageKey``, so the per-message table
/// compares three machine words instead of allocating a `String` to look a message up.
enum EximMessageID {
    /// Whether `p[range]` has the shape of an Exim message id (old or new style).
    ///
    /// - Complexity: O(length of the range), at most 23 bytes are looked at.
    static func isMessageID(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        let s = range.lowerBound
        let secondDash: Int
        switch range.count {
        case 16: secondDash = 13
        case 23: secondDash = 18
        default: return false
        }
        guard p[s + 6] == UInt8(ascii: "-"), p[s + secondDash] == UInt8(ascii: "-") else { return false }
        for i in range where i != s + 6 && i != s + secondDash {
            if !isBase62(p[i]) { return false }
        }
        return true
    }

    @inline(__always)
    static func isBase62(_ b: UInt8) -> Bool {
        (b &- 0x30) < 10 || ((b | 0x20) &- 0x61) < 26
    }
}

/// An Exim message id packed into three words: up to 24 bytes, zero padded, with the host it belongs to. The
/// id's length is implied by its bytes (ids never contain a zero byte), so equal keys mean equal ids.
///
/// Message ids are unique per host only: a central syslog file of several Exim hosts can hold two messages with
/// one id. ``host`` is a 64-bit hash of the syslog host field (0 for mainlog lines, which name no host), so
/// two messages are one only when host and id agree.
struct EximMessageKey: Hashable, Sendable {
    var w0: UInt64 = 0
    var w1: UInt64 = 0
    var w2: UInt64 = 0
    /// The hash of the line's syslog host (``Bytes/wordHash(_:_:)``), or 0 without one.
    var host: UInt64 = 0

    /// The empty key (of a free table slot).
    init() {}

    /// Packs `p[range]`; bytes past the 24th are ignored (ids are validated to 16 or 23 bytes before this).
    init(_ p: UnsafeRawBufferPointer, _ range: Range<Int>, host: UInt64) {
        self.host = host
        var k = 0
        for i in range {
            guard k < 24 else { break }
            let v = UInt64(p[i]) << UInt64((k & 7) * 8)
            switch k >> 3 {
            case 0: w0 |= v
            case 1: w1 |= v
            default: w2 |= v
            }
            k += 1
        }
    }
}
