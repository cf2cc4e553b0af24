/// The slot ranges of the exact-text cache's entries (``TemplateMiner``), held in fixed space per entry.
///
/// An entry's ranges are byte offsets into its text, two per slot (start, end), ascending. Subjects have a few
/// slots and are short, so each entry has room for ``inlineValues`` offsets as `UInt16` in one flat array
/// (``inline``), and its count in another; an entry with more offsets (or an offset past `UInt16.max`) keeps
/// them in ``spill`` instead, in an array of exactly their size. Before, every entry was an array of `Int` of its
/// own: a heap block of 32 bytes of header plus 8 per offset, about 100 bytes an entry with the allocator's
/// rounding (6.3 MB of the 65,536 entries the independent 10 M-line log fills, docs/performance.md).
///
/// Memory: 2 × ``inlineValues`` + 2 bytes per entry (26), plus about 48 + 8 bytes per offset for each entry with
/// more.
struct CachedSlotRanges: Sendable {
    /// Offsets held inline per entry: six slots.
    static let inlineValues = 12

    /// ``inlineValues`` offsets per entry; unused ones are 0.
    private var inline: [UInt16] = []
    /// The number of offsets of each entry, or ``spilled`` when they are in ``spill``.
    private var counts: [UInt16] = []
    /// The offsets of entries with more than ``inlineValues`` of them, by entry.
    private var spill: [Int32: [Int]] = [:]
    private static let spilled = UInt16.max

    /// The number of entries.
    var count: Int { counts.count }
    /// The number of entries whose offsets are in ``spill`` (for tests).
    var spilledEntries: Int { spill.count }

    /// Adds an entry without offsets.
    ///
    /// - Complexity: O(1) amortised.
    mutating func appendEntry() {
        inline.append(contentsOf: repeatElement(0, count: Self.inlineValues))
        counts.append(0)
    }

    /// Removes every entry.
    mutating func removeAll() {
        inline = []
        counts = []
        spill = [:]
    }

    /// Sets the offsets of `entry` to `values`.
    ///
    /// - Complexity: O(`values.count`); allocates only for an entry with more than ``inlineValues`` offsets.
    mutating func set(_ entry: Int32, _ values: some Collection<Int>) {
        let e = Int(entry)
        if counts[e] == Self.spilled { spill[entry] = nil }
        if values.count <= Self.inlineValues, values.allSatisfy({ $0 >= 0 && $0 <= Int(UInt16.max) }) {
            var i = e * Self.inlineValues
            for v in values {
                inline[i] = UInt16(v)
                i += 1
            }
            counts[e] = UInt16(values.count)
        } else {
            // A new buffer of the values' size: `Array(values)` of the miner's scratch array would share (and
            // keep) its buffer, sized for the most tokens.
            var held: [Int] = []
            held.reserveCapacity(values.count)
            held.append(contentsOf: values)
            spill[entry] = held
            counts[e] = Self.spilled
        }
    }

    /// Empties `entry` (a freed cache entry), releasing spilled offsets.
    mutating func clear(_ entry: Int32) {
        if counts[Int(entry)] == Self.spilled { spill[entry] = nil }
        counts[Int(entry)] = 0
    }

    /// The number of offsets of `entry`.
    func count(_ entry: Int32) -> Int {
        let n = counts[Int(entry)]
        // Safe to force unwrap: a spilled entry always has its offsets in `spill`.
        return n == Self.spilled ? spill[entry]!.count : Int(n)
    }

    /// Offset `i` of `entry` (`i < count(entry)`).
    @inline(__always)
    func value(_ entry: Int32, _ i: Int) -> Int {
        let n = counts[Int(entry)]
        // Safe to force unwrap: as in `count(_:)`.
        return n == Self.spilled ? spill[entry]![i] : Int(inline[Int(entry) * Self.inlineValues + i])
    }

    /// The offsets of `entry`, in order (for checkpoints and tests).
    func values(_ entry: Int32) -> [Int] { (0..<count(entry)).map { value(entry, $0) } }
}
