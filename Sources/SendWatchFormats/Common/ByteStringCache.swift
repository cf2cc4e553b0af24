import SendWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounded, direct-mapped cache from byte strings to `String`s, so that values that repeat across lines
/// (sender, SASL user, account header, host) are not allocated again each time.
///
/// Each of the ``entryCount`` entries holds the last string stored at its hash position; a new value whose
/// position is taken replaces the old one. A hit compares the bytes exactly, so the cache never changes a
/// result, only how often a `String` is made. Values of at most 15 bytes are not cached: Swift stores them
/// inline without allocating.
package struct ByteStringCache: Sendable {
    /// The number of entries (a power of two).
    package let entryCount: Int
    private var hashes: [UInt64]
    private var strings: [String]

    /// A cache with `entryCount` entries, rounded up to a power of two (at least 16). Memory: 24 bytes per
    /// entry plus the cached strings.
    package init(entryCount: Int = 16_384) {
        let n = max(16, Int.powerOfTwo(atLeast: entryCount))
        self.entryCount = n
        hashes = Array(repeating: 0, count: n)
        strings = Array(repeating: "", count: n)
    }

    /// The `String` of `p[range]` (invalid UTF-8 replaced with U+FFFD, as ``Bytes/string(_:_:)``).
    ///
    /// - Complexity: O(length of the range); allocates only on a miss.
    package mutating func string(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        guard range.count > 15, let base = p.baseAddress else { return Bytes.string(p, range) }
        let h = Bytes.wordHash(p, range)
        let i = Int(truncatingIfNeeded: h) & (entryCount - 1)
        if hashes[i] == h {
            // Compared in place: the entry is copied (retained) only when it is the answer.
            let same = strings[i].withUTF8Bytes { u in
                // Safe: both ranges are inside their buffers; counts are compared first.
                guard u.count == range.count, let ub = u.baseAddress else { return false }
                return memcmp(ub, base + range.lowerBound, u.count) == 0
            }
            if same { return strings[i] }
        }
        let s = Bytes.string(p, range)
        hashes[i] = h
        strings[i] = s
        return s
    }
}
