/// A multimap from 64-bit keys (hashes) to 64-bit values, in two flat arrays with open addressing: which
/// alerts list an account key or name an artefact (``AlertLifecycle`` incident linking).
///
/// A key may map to several values; each (key, value) pair is held at most once when callers add each pair
/// once (they do: an alert's account keys and artefacts have no repeats). Lookups visit the run of cells that
/// starts at the key's first cell, so a key held by *m* pairs costs O(*m*) plus the run of other keys.
///
/// Key 0 marks an empty cell, so a pair with key 0 is held under key 1: a lookup of either key may return the
/// other's values. Callers treat every value as a candidate and confirm it against the alert itself.
///
/// Memory: 16 bytes per cell; the table doubles at half full and halves below an eighth full, so it holds at
/// most 8 cells per pair, and at least ``minCells``.
///
/// - Complexity: ``insert(_:_:)``, ``remove(_:_:)`` and ``forEach(_:_:)`` are O(1) expected plus the pairs of the
///   same key; growing or shrinking is O(cells), amortised O(1).
struct KeyMultimap: Sendable {
    /// Cells of a new or shrunken table.
    static let minCells = 64

    private var keys: [UInt64]
    private var values: [UInt64]
    /// The pairs held.
    private(set) var count = 0

    init() {
        keys = Array(repeating: 0, count: Self.minCells)
        values = Array(repeating: 0, count: Self.minCells)
    }

    /// The cells allocated (for the memory bound and tests).
    var cellCount: Int { keys.count }

    /// Adds the pair (`key`, `value`).
    mutating func insert(_ key: UInt64, _ value: UInt64) {
        if (count + 1) * 2 > keys.count { resize(to: keys.count * 2) }
        let key = Self.stored(key)
        let mask = keys.count - 1
        var cell = Self.cell(of: key, mask: mask)
        while keys[cell] != 0 { cell = (cell + 1) & mask }
        keys[cell] = key
        values[cell] = value
        count += 1
    }

    /// Removes the pair (`key`, `value`); returns whether it was held.
    @discardableResult
    mutating func remove(_ key: UInt64, _ value: UInt64) -> Bool {
        let key = Self.stored(key)
        let mask = keys.count - 1
        var cell = Self.cell(of: key, mask: mask)
        while keys[cell] != 0 {
            if keys[cell] == key && values[cell] == value {
                vacate(cell, mask: mask)
                count -= 1
                if keys.count > Self.minCells && count * 8 < keys.count { resize(to: keys.count / 2) }
                return true
            }
            cell = (cell + 1) & mask
        }
        return false
    }

    /// Calls `body` with each value held under `key` (and, for key 0 or 1, under the other), in no fixed order.
    func forEach(_ key: UInt64, _ body: (UInt64) -> Void) {
        let key = Self.stored(key)
        let mask = keys.count - 1
        var cell = Self.cell(of: key, mask: mask)
        while keys[cell] != 0 {
            if keys[cell] == key { body(values[cell]) }
            cell = (cell + 1) & mask
        }
    }

    /// Empties `cell` and moves later cells of its run back, so that every held pair stays reachable from its
    /// key's first cell without the run being broken (deletion without tombstones).
    private mutating func vacate(_ cell: Int, mask: Int) {
        var hole = cell
        var next = (cell + 1) & mask
        while keys[next] != 0 {
            let home = Self.cell(of: keys[next], mask: mask)
            // The pair at `next` may move to the hole when its first cell is not in (hole, next], cyclically.
            let stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !stays {
                keys[hole] = keys[next]
                values[hole] = values[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        keys[hole] = 0
        values[hole] = 0
    }

    private mutating func resize(to cells: Int) {
        let oldKeys = keys
        let oldValues = values
        keys = Array(repeating: 0, count: cells)
        values = Array(repeating: 0, count: cells)
        let mask = cells - 1
        for i in oldKeys.indices where oldKeys[i] != 0 {
            var cell = Self.cell(of: oldKeys[i], mask: mask)
            while keys[cell] != 0 { cell = (cell + 1) & mask }
            keys[cell] = oldKeys[i]
            values[cell] = oldValues[i]
        }
    }

    private static func stored(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    /// A key's first cell: the high bits of a multiplicative hash, so that keys differing only in high bits
    /// spread too.
    private static func cell(of key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }
}
