/// The lookup index of a ``BoundedKeyTable``: from key hash to slot, by open addressing over slot numbers.
///
/// The buckets hold slot numbers (-1 is empty) in a power-of-two array at most half full, probed linearly from
/// the key's home (its Fibonacci hash: the keys are already 64-bit hashes, the multiply only spreads their low
/// bits); a lookup compares the slot's key in the table's keys array. Removal shifts the rest of the probe run
/// back, so no tombstones build up. Before, the table kept a `Dictionary<UInt64, Int32>`: 12 bytes per bucket at
/// up to three quarters full (16 to 32 bytes per entry, plus a SipHash per lookup); here 4 bytes per bucket at
/// most half full (8 to 16 bytes per entry).
///
/// Memory: one `Int32` per bucket, 16 buckets at first, doubled whenever an insert would pass half full (so at
/// most 4 × the most entries held, 16 bytes per entry). The index never iterates in hash order for output.
@usableFromInline
struct KeyIndex: Sendable {
    /// Slot numbers by position; -1 is empty. Empty until the first insert.
    @usableFromInline var buckets: [Int32] = []
    /// `buckets.count - 1`.
    @usableFromInline var mask = 0
    /// The number of keys held.
    @usableFromInline var count = 0

    @usableFromInline init() {}

    /// An index of `entries` (each key once), whose slots hold those keys in `keys`.
    @usableFromInline
    init(_ entries: [UInt64: Int32], keys: [UInt64]) {
        for (key, slot) in entries { insert(slot, key: key, keys: keys) }
    }

    /// The bucket a key's probe starts at.
    @inlinable @inline(__always)
    func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The slot holding `key` (whose slots' keys are `keys`), or `nil`.
    ///
    /// - Complexity: O(1) expected. No allocation.
    @inlinable
    func find(_ key: UInt64, keys: [UInt64]) -> Int32? {
        guard count > 0 else { return nil }
        var i = home(key)
        while true {
            let s = buckets[i]
            if s < 0 { return nil }
            if keys[Int(s)] == key { return s }
            i = (i &+ 1) & mask
        }
    }

    /// Adds `slot` for `key`, which the index does not hold (the slots' keys are `keys`, `key` among them).
    ///
    /// - Complexity: O(1) amortised; allocates when the buckets double.
    @usableFromInline
    mutating func insert(_ slot: Int32, key: UInt64, keys: [UInt64]) {
        if (count + 1) * 2 > buckets.count { grow(keys: keys) }
        var i = home(key)
        while buckets[i] >= 0 { i = (i &+ 1) & mask }
        buckets[i] = slot
        count += 1
    }

    /// Removes `key`'s entry, if held (the slots' keys are `keys`, still holding `key` at its slot).
    ///
    /// - Complexity: O(1) expected (backward-shift deletion moves at most the entries of one probe run).
    @usableFromInline
    mutating func remove(_ key: UInt64, keys: [UInt64]) {
        guard count > 0 else { return }
        var i = home(key)
        while true {
            let s = buckets[i]
            if s < 0 { return }
            if keys[Int(s)] == key { break }
            i = (i &+ 1) & mask
        }
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            let s = buckets[j]
            if s < 0 { break }
            let h = home(keys[Int(s)])
            // Move `s` into the hole unless its home lies cyclically in (hole, j].
            if (j &- h) & mask >= (j &- hole) & mask {
                buckets[hole] = s
                hole = j
            }
        }
        buckets[hole] = -1
        count -= 1
    }

    private mutating func grow(keys: [UInt64]) {
        let old = buckets
        let newCount = Swift.max(16, buckets.count * 2)
        buckets = [Int32](repeating: -1, count: newCount)
        mask = newCount - 1
        for s in old where s >= 0 {
            var i = home(keys[Int(s)])
            while buckets[i] >= 0 { i = (i &+ 1) & mask }
            buckets[i] = s
        }
    }
}
