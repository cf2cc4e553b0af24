/// The positions of each constant hash of one text, as bit masks, for computing the length of the longest common
/// subsequence (LCS) of that text against many templates without filling an LCS table for each.
///
/// Loaded once per text that misses the exact-text cache; ``lcsLength(_:)`` then costs O(*t*) for a template of
/// *t* constants (one probe and five word operations per constant) where the table costs O(*m* · *t*). The miner
/// fills the table only for a candidate whose LCS length passes the similarity threshold and beats the best
/// candidate so far, because only that candidate's pairs are read back.
///
/// The length is the exact LCS length, not an estimate: it is the bit-parallel form of the same dynamic
/// programme (Allison and Dix 1986; Crochemore et al. 2001; Hyyrö 2004). Column *j* of the LCS table, as a
/// function of the text position *i*, rises by 0 or 1 from one row to the next; bit *i* of `v` is 0 where it
/// rises. Processing a template constant whose positions in the text are `pm` turns the column into the next one
/// with `u = v & pm; v = (v + u) | (v - u)`, and the LCS length is the number of zero bits among the text's *m*.
/// Every decision the miner takes on the length (zero, below the threshold, not better than the best) is thus
/// the decision it took on the table's corner before; `TemplateLCSTests` checks the two against each other on
/// random sequences and the miner's assignments with and without this path on random texts.
///
/// Bounds: texts of at most ``capacity`` constants (the default `maxTokens` of 64 never gives more; a longer text
/// is not loaded and the miner fills the table as before). The probe table has `2 × capacity` entries, so it is
/// at most half full: 128 × (8 + 8 + 4) bytes = 2.5 KiB per miner.
struct ConstantPositionMasks: Sendable {
    /// Most constants a loaded text may have: one bit per position in a `UInt64`.
    static let capacity = 64
    /// Entries of the open-addressing table (a power of two, twice ``capacity``).
    static let tableSize = 2 * capacity

    private var keys: [UInt64]
    private var masks: [UInt64]
    /// An entry is occupied when its stamp equals `stamp`; bumping `stamp` empties the table in O(1).
    private var stamps: [UInt32]
    private var stamp: UInt32 = 0
    /// Constants of the loaded text, or -1 when none is loaded (too long).
    private(set) var count = -1

    init() {
        keys = [UInt64](repeating: 0, count: Self.tableSize)
        masks = [UInt64](repeating: 0, count: Self.tableSize)
        stamps = [UInt32](repeating: 0, count: Self.tableSize)
    }

    /// Whether a text is loaded (``load(_:)`` returned `true` for the last text).
    var isLoaded: Bool { count >= 0 }

    @inline(__always)
    private static func home(_ h: UInt64) -> Int {
        Int(truncatingIfNeeded: (h &* 0x9E37_79B9_7F4A_7C15) >> 57)
    }

    /// Loads the constant hashes of a text; returns `false` (and loads nothing) for more than ``capacity``.
    ///
    /// - Complexity: O(*m*) expected for *m* hashes.
    mutating func load(_ hashes: [UInt64]) -> Bool {
        stamp &+= 1
        if stamp == 0 {
            // 2³² loads later: the old stamps could be taken for current ones, so clear them once.
            for i in 0..<Self.tableSize { stamps[i] = 0 }
            stamp = 1
        }
        guard hashes.count <= Self.capacity else {
            count = -1
            return false
        }
        count = hashes.count
        let mask = Self.tableSize - 1
        for (position, h) in hashes.enumerated() {
            var i = Self.home(h)
            // At most `capacity` of `tableSize` entries are occupied, so the probe ends.
            while stamps[i] == stamp && keys[i] != h { i = (i + 1) & mask }
            if stamps[i] != stamp {
                stamps[i] = stamp
                keys[i] = h
                masks[i] = 0
            }
            masks[i] |= 1 << UInt64(position)
        }
        return true
    }

    /// The positions at which the loaded text has the constant `h` (bit *i* for position *i*), or 0.
    @inline(__always)
    func positions(of h: UInt64) -> UInt64 {
        let mask = Self.tableSize - 1
        var i = Self.home(h)
        while stamps[i] == stamp {
            if keys[i] == h { return masks[i] }
            i = (i + 1) & mask
        }
        return 0
    }

    /// The length of the longest common subsequence of the loaded text's constants and `other`.
    ///
    /// - Precondition: ``isLoaded``.
    /// - Complexity: O(`other.count`), no allocation.
    func lcsLength(_ other: [UInt64]) -> Int {
        var v = UInt64.max
        for h in other {
            let u = v & positions(of: h)
            // Wrapping: a carry out of bit 63 (a text of exactly 64 constants) leaves no position.
            v = (v &+ u) | (v & ~u)
        }
        let live = count == 64 ? UInt64.max : (UInt64(1) << UInt64(count)) &- 1
        return count - (v & live).nonzeroBitCount
    }
}
