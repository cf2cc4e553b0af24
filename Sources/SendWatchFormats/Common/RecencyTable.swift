import SendWatchCore

/// What a ``RecencyTable`` stores per slot: the entry itself carries its key, its recency links and its last
/// touch, so that a lookup, a touch and the fields a line reads share the slot's first cache lines.
protocol RecencySlot: Sendable {
    /// The table key (message id bytes held inline).
    associatedtype Key: Equatable
    /// The time of the last touch, in the owner's unit.
    associatedtype Stamp: Comparable
    /// A freed slot (not in use): holds no strings, so that removing a message releases them at once.
    static var vacant: Self { get }
    var key: Key { get }
    /// The key's 64-bit hash, fixed (not seeded per process); stored or computed from ``key``.
    var hash: UInt64 { get }
    var lastTouched: Stamp { get set }
    /// Recency links (slot numbers, -1 = none); owned by the table.
    var older: Int32 { get set }
    var newer: Int32 { get set }
    /// Whether the slot holds a message: `true` for a new message, `false` for ``vacant``.
    var inUse: Bool { get set }
}

/// A bounded hash table of open messages (Postfix queue ids, Exim message ids) with exact
/// least-recently-touched order: the one structure both joining parsers keep their messages in.
///
/// Slots live in one array and are reused through a free list; an intrusive doubly linked list through the
/// slots keeps them in touch order, so eviction (oldest touched) and expiry (idle longer than a timeout, checked
/// at the old end) are O(1) each. The index is an open-addressing hash table of slot numbers (power-of-two size,
/// linear probing on ``RecencySlot/hash``, deletion by backward shift so no tombstones build up), at most half
/// full; it grows by doubling, to at most 4 × ``capacity`` buckets of 4 bytes. Lookups compare whole keys, so two
/// keys with the same hash are still two messages.
///
/// Memory: at most ``capacity`` slots (the size of `Slot` each, plus what its strings hold) and the index.
struct RecencyTable<Slot: RecencySlot>: Sendable {
    private(set) var slots: [Slot] = []
    /// Slot numbers by hash position; -1 is empty.
    private var buckets: [Int32]
    private var mask: Int
    private var free: [Int32] = []
    /// Least recently touched slot, or -1.
    private(set) var oldest: Int32 = -1
    /// Most recently touched slot, or -1.
    private var newest: Int32 = -1
    /// The number of messages held.
    private(set) var count = 0
    /// The most messages held at once (at least 1).
    let capacity: Int
    private let initialBuckets: Int

    /// An empty table for at most `capacity` messages, with an index of `initialBuckets` (a power of two).
    init(capacity: Int, initialBuckets: Int) {
        self.capacity = max(1, capacity)
        self.initialBuckets = initialBuckets
        buckets = Array(repeating: -1, count: initialBuckets)
        mask = initialBuckets - 1
    }

    var isFull: Bool { count >= capacity }

    /// The least recently touched slot, or `nil` when empty.
    var oldestSlot: Int32? { oldest >= 0 ? oldest : nil }

    /// The slot of the message with `key` (whose hash is `hash`), or `nil`.
    ///
    /// - Complexity: O(1) expected.
    @inline(__always)
    func find(_ key: Slot.Key, hash: UInt64) -> Int32? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let s = buckets[i]
            if s < 0 { return nil }
            if slots[Int(s)].key == key { return s }
            i = (i + 1) & mask
        }
    }

    /// Inserts a new message (whose key is not in the table, and which is in use) as the most recently touched;
    /// the caller makes room first (``isFull``).
    ///
    /// - Complexity: O(1) amortised.
    mutating func insert(_ message: consuming Slot) -> Int32 {
        let hash = message.hash
        let slot = slots.storeInFreeSlot(message, free: &free).slot
        if (count + 1) * 2 > buckets.count { grow() }
        place(slot, hash: hash)
        count += 1
        linkNewest(slot)
        return slot
    }

    /// Marks `slot` as touched at `stamp` (moves it to the newest end; its stamp never goes back).
    ///
    /// - Complexity: O(1).
    @inline(__always)
    mutating func touch(_ slot: Int32, at stamp: Slot.Stamp) {
        let newestBefore = newest
        // One pass over the slots' storage (one uniqueness check) for the stamp and the up to three slots whose
        // links change; every index is a slot of this table (the links only ever hold such indices).
        var oldestAfter = oldest
        slots.withUnsafeMutableBufferPointer { s in
            let i = Int(slot)
            if stamp > s[i].lastTouched { s[i].lastTouched = stamp }
            guard newestBefore != slot else { return }
            // Unlink (the slot is not the newest, so it has a newer neighbour).
            let o = s[i].older
            let w = s[i].newer
            if o >= 0 { s[Int(o)].newer = w } else { oldestAfter = w }
            if w >= 0 { s[Int(w)].older = o }
            // Link as the newest (`newestBefore` is a different slot that stays linked).
            s[i].older = newestBefore
            s[i].newer = -1
            if newestBefore >= 0 { s[Int(newestBefore)].newer = slot } else { oldestAfter = slot }
        }
        guard newestBefore != slot else { return }
        oldest = oldestAfter
        newest = slot
    }

    /// Removes `slot`'s message (releasing its strings now rather than when the slot is reused) and frees the
    /// slot; a slot not in use is left alone.
    ///
    /// - Complexity: O(1) expected (backward-shift deletion moves at most the entries of one probe run).
    mutating func remove(_ slot: Int32) {
        guard slots[Int(slot)].inUse else { return }
        unlink(slot)
        removeFromIndex(slot)
        count -= 1
        slots[Int(slot)] = .vacant
        free.append(slot)
    }

    /// Calls `body` with every message, least recently touched first.
    ///
    /// - Complexity: O(count).
    func forEachOldestFirst(_ body: (Slot) throws -> Void) rethrows {
        var slot = oldest
        // The list holds `count` slots; the bound only guards against a loop should the links ever be wrong.
        var left = count
        while slot >= 0 && left > 0 {
            try body(slots[Int(slot)])
            slot = slots[Int(slot)].newer
            left -= 1
        }
    }

    /// Drops everything.
    mutating func removeAll() {
        slots.removeAll()
        buckets = Array(repeating: -1, count: initialBuckets)
        mask = initialBuckets - 1
        free.removeAll()
        count = 0
        oldest = -1
        newest = -1
    }

    subscript(slot: Int32) -> Slot {
        _read { yield slots[Int(slot)] }
        _modify { yield &slots[Int(slot)] }
    }

    private mutating func place(_ slot: Int32, hash: UInt64) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while buckets[i] >= 0 { i = (i + 1) & mask }
        buckets[i] = slot
    }

    private mutating func grow() {
        let newCount = buckets.count * 2
        buckets = Array(repeating: -1, count: newCount)
        mask = newCount - 1
        for s in slots.indices where slots[s].inUse { place(Int32(s), hash: slots[s].hash) }
    }

    /// Removes `slot` from the index and shifts the following entries of its probe run back.
    private mutating func removeFromIndex(_ slot: Int32) {
        var i = Int(truncatingIfNeeded: slots[Int(slot)].hash) & mask
        while buckets[i] != slot {
            if buckets[i] < 0 { return }
            i = (i + 1) & mask
        }
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            let s = buckets[j]
            if s < 0 { break }
            let home = Int(truncatingIfNeeded: slots[Int(s)].hash) & mask
            // Move `s` into the hole unless its home lies cyclically in (hole, j].
            if (j &- home) & mask >= (j &- hole) & mask {
                buckets[hole] = s
                hole = j
            }
        }
        buckets[hole] = -1
    }

    private mutating func unlink(_ slot: Int32) {
        let o = slots[Int(slot)].older
        let w = slots[Int(slot)].newer
        if o >= 0 { slots[Int(o)].newer = w } else { oldest = w }
        if w >= 0 { slots[Int(w)].older = o } else { newest = o }
        slots[Int(slot)].older = -1
        slots[Int(slot)].newer = -1
    }

    private mutating func linkNewest(_ slot: Int32) {
        slots[Int(slot)].older = newest
        slots[Int(slot)].newer = -1
        if newest >= 0 { slots[Int(newest)].newer = slot } else { oldest = slot }
        newest = slot
    }
}
