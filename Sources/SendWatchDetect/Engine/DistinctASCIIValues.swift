#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The distinct values of one list of ``DetectionContext/accountEvidence(_:)`` (the logins, the recipients, ...
/// of up to `detect.max_alert_accounts` accounts), kept as bytes: each value is copied once into one byte array
/// and found again through an open-addressing index of its hash, so that collecting them makes no `String` and
/// hashes each value once. It replaced a `Set<String>` filled from ``AccountSample/values(_:)``, which made a
/// `String` of every value of every listed account for each record written (10.6 % of all instructions on the
/// adversarial cut of docs/performance.md).
///
/// Only for values without a byte outside ASCII: for them, different bytes are different `String`s and byte
/// order is `String` order, so ``count`` and ``smallest(_:)`` are what a `Set<String>` of the same values and
/// `DetectionContext.smallest(_:of:)` give. `String` can find a value with a byte outside ASCII equal to another
/// (a precomposed and a decomposed accent, or the Kelvin sign and `K`), so the caller counts a list that has
/// one as `String`s.
///
/// Memory: the values' bytes, 16 bytes per value (its end and hash) and an index of 4 bytes per cell at 2 to 4
/// cells per value; the caller's values are bounded (at most ``AccountSample/cap`` per list and account).
struct DistinctASCIIValues {
    /// The values, one after another.
    private var bytes: [UInt8] = []
    /// Value *i* is `bytes[ends[i - 1] ..< ends[i]]` (from 0 for the first).
    private var ends: [Int] = []
    /// Value *i*'s hash (`Hasher`: seeded per process, so values an adversary chose do not collide on purpose;
    /// nothing printed depends on it).
    private var hashes: [Int] = []
    /// Open addressing over the values: a value's index plus one, 0 for an empty cell; a power of two at least
    /// twice ``count``, or empty.
    private var index: [Int32] = []

    /// The number of distinct values.
    var count: Int { hashes.count }

    /// Adds the value whose bytes are `head` followed by `tail`, unless it is held.
    ///
    /// - Complexity: O(value length) expected.
    mutating func insert(_ head: UnsafeBufferPointer<UInt8>, _ tail: UnsafeBufferPointer<UInt8>) {
        if (count + 1) * 2 > index.count { grow() }
        let start = bytes.count
        bytes.append(contentsOf: head)
        bytes.append(contentsOf: tail)
        let end = bytes.count
        let duplicate = bytes.withUnsafeBufferPointer { b -> Bool in
            let value = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[start..<end]))
            var hasher = Hasher()
            hasher.combine(bytes: value)
            let h = hasher.finalize()
            let mask = index.count - 1
            var cell = Self.cell(of: h, mask: mask)
            while index[cell] != 0 {
                let i = Int(index[cell]) - 1
                if hashes[i] == h {
                    let from = i == 0 ? 0 : ends[i - 1]
                    if ends[i] - from == value.count
                        && (value.isEmpty || memcmp(b.baseAddress! + from, value.baseAddress!, value.count) == 0)
                    {
                        return true
                    }
                }
                cell = (cell + 1) & mask
            }
            index[cell] = Int32(count + 1)
            hashes.append(h)
            ends.append(end)
            return false
        }
        if duplicate { bytes.removeLast(end - start) }
    }

    /// The `k` smallest values in increasing order (bytes compared as unsigned, a shorter value before the longer
    /// values it begins), as `String`s: `Set(values).sorted().prefix(k)` for ASCII values.
    ///
    /// - Complexity: O(``count`` × `k`) comparisons at worst, about ``count`` when most values are larger than the
    ///   `k`-th; makes `k` strings.
    func smallest(_ k: Int) -> [String] {
        guard k > 0 else { return [] }
        return bytes.withUnsafeBufferPointer { b in
            func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }
            func less(_ x: Int, _ y: Int) -> Bool {
                let rx = range(x)
                let ry = range(y)
                let common = min(rx.count, ry.count)
                if common > 0 {
                    let c = memcmp(b.baseAddress! + rx.lowerBound, b.baseAddress! + ry.lowerBound, common)
                    if c != 0 { return c < 0 }
                }
                return rx.count < ry.count
            }
            return Self.smallest(k, of: 0..<count, by: less).map {
                String(decoding: UnsafeBufferPointer(rebasing: b[range($0)]), as: UTF8.self)
            }
        }
    }

    /// The `k` smallest of `values` by `less` (a strict total order on them), in increasing order, without sorting
    /// them all: the result does not depend on the order of `values`.
    ///
    /// - Complexity: O(n × `k`) calls of `less` at worst, about n when most values are larger than the `k`-th.
    static func smallest<T>(_ k: Int, of values: some Sequence<T>, by less: (T, T) -> Bool) -> [T] {
        guard k > 0 else { return [] }
        var kept: [T] = []
        kept.reserveCapacity(k + 1)
        for v in values {
            if kept.count == k {
                // Safe to force unwrap: k > 0 (checked above) values are kept here.
                guard less(v, kept.last!) else { continue }
                kept.removeLast()
            }
            var j = kept.count
            kept.append(v)
            while j > 0 && less(v, kept[j - 1]) {
                kept[j] = kept[j - 1]
                j -= 1
            }
            kept[j] = v
        }
        return kept
    }

    /// Doubles the index (at least 16 cells) and puts every value in it again.
    private mutating func grow() {
        let size = max(16, index.count * 2)
        index = [Int32](repeating: 0, count: size)
        PositionIndex.fill(&index, count: hashes.count) { Self.cell(of: hashes[$0], mask: $1) }
    }

    private static func cell(of hash: Int, mask: Int) -> Int { hash & mask }
}
