public import SendWatchCore

/// Per-key state (for example one ``SlidingCount`` per account) keyed by a precomputed 64-bit key hash, bounded
/// by an entry count and an approximate byte budget, evicting the least recently updated entry first.
///
/// Storage is a struct of arrays indexed by slot (key, display name, value, last update time, accounted bytes,
/// and the links of the intrusive recency list, ``RecencyList``), a free list of slots, and an open-addressing index
/// from key hash to slot (``KeyIndex``) used **only for lookup**, never iterated.
/// The names' array reaches only as far as the last slot given a non-empty name: a table whose entries carry no
/// name (keys hashed from text the caller does not keep, as `recipient_fanin`'s recipients) holds none at all.
/// Output order comes from ``entries(sortedBy:)`` (sorted) or ``keysByRecency()`` (the list, which depends
/// only on the input sequence).
///
/// Recency: ``insert(key:name:value:at:)`` and ``touch(_:at:)`` move the entry to the newest end of the list
/// and set its last update time to the later of the old one and `time`. The oldest end is evicted first.
///
/// Bounds, and what happens at them:
/// - ``maxEntries``: inserting into a full table first evicts the least recently updated entry
///   (``evictedForCount``).
/// - ``maxBytes``: every entry is accounted at ``perEntryOverheadBytes`` plus its name's heap bytes plus
///   `value.approximateHeapBytes`. Inserting evicts from the oldest end until the new entry fits
///   (``evictedForBytes``). Values that grow in place (through the subscript) are re-accounted at once, but
///   eviction then waits for the next insert or an explicit ``enforceBudget()`` call, so slots held by the
///   caller stay valid during an update; the overshoot is at most the growth since the last insert.
/// - Idle entries: ``expireIdle(notUpdatedSince:limit:)`` removes entries from the oldest end while their last
///   update is at or before a cutoff (typically `now - longest horizon`, when their windows are empty), up to
///   `limit` per call: amortised O(1) per expired entry. Because the list is in update order, an entry touched
///   late with an older time can shield older entries behind it until it expires itself (by at most the
///   allowed lateness).
///
/// A ``Slot`` stays valid until its entry is evicted or expired (by ``insert(key:name:value:at:)``,
/// ``enforceBudget()`` or ``expireIdle(notUpdatedSince:limit:)``); the slot of a removed entry is reused.
///
/// Memory: ``perEntryOverheadBytes`` (72 bytes plus the stride of `Value?`) per entry, plus the names and the
/// values' heap, kept under ``maxBytes`` (the index takes 8 to 16 bytes per entry where the figure counts a
/// dictionary's 20, unchanged so that eviction decisions are too); the arrays and index grow by doubling to at most
/// ``maxEntries`` and are then reused, so a full table performs no allocation per update. The budget counts 16
/// bytes of name per entry even where the names' array is shorter (a table without names holds 16 bytes a slot
/// less than it counts), so eviction decisions do not depend on which entries have names.
///
/// Usage:
/// ```swift
/// var perAccount = BoundedKeyTable<SlidingCount>(maxEntries: 200_000, maxBytes: 64 << 20)
/// let slot = perAccount.find(accountHash)
///     ?? perAccount.insert(key: accountHash, name: account, value: SlidingCount(...), at: event.time)
/// perAccount.touch(slot, at: event.time)
/// perAccount[slot].add(at: event.time)
/// ```
public struct BoundedKeyTable<Value: ApproximateHeapSize> {
    /// A position in the table, valid until its entry is removed.
    public struct Slot: Hashable, Sendable {
        @usableFromInline let index: Int32

        @inlinable init(index: Int32) { self.index = index }
    }

    /// One entry, for reporting.
    public struct Entry {
        public var key: UInt64
        public var name: String
        public var value: Value
        public var lastUpdate: EventTime
    }

    @usableFromInline var _keys: [UInt64] = []
    /// The names of slots `0..<_names.count`; a slot at or beyond the end has the name `""`.
    @usableFromInline var _names: [String] = []
    @usableFromInline var _values: [Value?] = []
    @usableFromInline var _lastUpdate: [Int64] = []
    @usableFromInline var _accounted: [Int] = []
    /// The recency list through the slots, oldest to newest; a free slot holds -1 in both links.
    @usableFromInline var _recency = RecencyList(detached: -1)
    /// From key to slot (``KeyIndex``).
    @usableFromInline var _index = KeyIndex()
    @usableFromInline var _free: [Int32] = []
    @usableFromInline var _bytes: Int = 0

    /// The most entries kept.
    public let maxEntries: Int
    /// The approximate byte budget.
    public let maxBytes: Int
    /// Entries evicted because the table was full.
    public internal(set) var evictedForCount: UInt64 = 0
    /// Entries evicted to stay under the byte budget.
    public internal(set) var evictedForBytes: UInt64 = 0
    /// Entries removed by ``expireIdle(notUpdatedSince:limit:)``.
    public internal(set) var expired: UInt64 = 0
    /// Entries removed for any reason (eviction, expiry, ``remove(_:)``) since this value was created or
    /// restored: while it stays the same, every ``Slot`` handed out since it was last read is still valid, so a
    /// caller that keeps slots between events knows when it has to look them up again. Not saved.
    public private(set) var removals: UInt64 = 0

    /// The bytes accounted per entry besides its name and value heap: key 8, name 16, last update 8,
    /// accounted bytes 8, links 8, a free-list slot 4, the dictionary's ~20 bytes per entry (12 bytes of key
    /// and value at a 0.75 maximum load, plus metadata), and the inline value `Value?`.
    @inlinable public static var perEntryOverheadBytes: Int { 72 + MemoryLayout<Value?>.stride }

    /// Creates an empty table.
    ///
    /// - Precondition: `maxEntries >= 1`, `maxEntries < Int32.max`, `maxBytes >= 0` (configuration).
    public init(maxEntries: Int, maxBytes: Int) {
        precondition(maxEntries >= 1 && maxEntries < Int(Int32.max) && maxBytes >= 0, "invalid table bounds")
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// The number of entries.
    @inlinable public var count: Int { _index.count }
    /// Whether the table is empty.
    @inlinable public var isEmpty: Bool { _index.count == 0 }
    /// The approximate bytes accounted for every entry.
    @inlinable public var approximateBytes: Int { _bytes }
    /// Evictions of either kind.
    public var evictions: UInt64 { evictedForCount &+ evictedForBytes }

    @inlinable
    static func nameBytes(_ name: String) -> Int {
        // Strings of up to 15 UTF-8 bytes are stored inline; longer ones own a heap block (32-byte header).
        let n = name.utf8.count
        return n <= 15 ? 0 : 32 + n
    }

    /// The slot of `key`, or `nil`.
    ///
    /// - Complexity: O(1) expected. No allocation.
    @inlinable
    public func find(_ key: UInt64) -> Slot? {
        guard let i = _index.find(key, keys: _keys) else { return nil }
        return Slot(index: i)
    }

    /// Inserts `key` with its display `name` and initial `value`, updated at `time`, evicting the least recently
    /// updated entries first as needed to stay within ``maxEntries`` and ``maxBytes``. If `key` is already
    /// present, its name and value are replaced and it is touched.
    ///
    /// An entry larger than the whole byte budget is still inserted (after evicting everything else), so the
    /// caller always gets a slot; it is then the first to go.
    ///
    /// - Complexity: O(1) expected, plus O(1) per evicted entry. Allocates only while the table grows.
    @inlinable @discardableResult
    public mutating func insert(key: UInt64, name: String, value: Value, at time: EventTime) -> Slot {
        let bytes = Self.perEntryOverheadBytes + Self.nameBytes(name) + value.approximateHeapBytes
        if let i = _index.find(key, keys: _keys) {
            let s = Slot(index: i)
            setName(name, at: Int(i))
            _values[Int(i)] = value
            _bytes += bytes - _accounted[Int(i)]
            _accounted[Int(i)] = bytes
            touch(s, at: time)
            return s
        }
        if _index.count >= maxEntries || (_index.count > 0 && _bytes + bytes > maxBytes) { makeRoom(for: bytes) }
        let i: Int32
        if let f = _free.popLast() {
            i = f
            _keys[Int(i)] = key
            setName(name, at: Int(i))
            _values[Int(i)] = value
            _lastUpdate[Int(i)] = time.microseconds
            _accounted[Int(i)] = bytes
        } else {
            i = Int32(_keys.count)
            _keys.append(key)
            setName(name, at: Int(i))
            _values.append(value)
            _lastUpdate.append(time.microseconds)
            _accounted.append(bytes)
            _ = _recency.appendNode()
        }
        _index.insert(i, key: key, keys: _keys)
        _bytes += bytes
        _recency.linkNewest(i)
        return Slot(index: i)
    }

    /// Marks the entry as updated at `time` (the later of its last update and `time`) and moves it to the newest
    /// end of the recency list.
    ///
    /// - Complexity: O(1). No allocation.
    @inlinable
    public mutating func touch(_ slot: Slot, at time: EventTime) {
        let i = slot.index
        if _lastUpdate[Int(i)] < time.microseconds { _lastUpdate[Int(i)] = time.microseconds }
        _recency.touch(i)
    }

    /// The value of an entry. Modifying it re-accounts the entry's bytes (see the type discussion for when
    /// eviction follows).
    ///
    /// - Complexity: O(1) plus `value.approximateHeapBytes`. No allocation.
    @inlinable
    public subscript(slot: Slot) -> Value {
        get {
            // Safe to force unwrap: a valid slot always holds a value; free slots are never handed out.
            _values[Int(slot.index)]!
        }
        _modify {
            let i = Int(slot.index)
            defer { reaccount(i) }
            // Mutated in place, where it is uniquely referenced (no copy of the value or of its arrays); moving it
            // out and back copied the whole value twice per write, more than the accounting itself.
            // Safe to force unwrap: as in `get`.
            yield &_values[i]!
        }
    }

    /// The heap bytes of a slot's value, read where it is (reading it through the array's getter copied it).
    @inlinable
    static func heapBytes(of value: inout Value?) -> Int {
        // Safe to force unwrap: called only for a slot that holds a value.
        value!.approximateHeapBytes
    }

    /// Accounts the entry in slot `i` again after its value changed.
    @inlinable
    mutating func reaccount(_ i: Int) {
        let valueBytes = Self.heapBytes(of: &_values[i])
        let nameBytes = i < _names.count ? Self.nameBytes(_names[i]) : 0
        let bytes = Self.perEntryOverheadBytes + nameBytes + valueBytes
        _bytes += bytes - _accounted[i]
        _accounted[i] = bytes
    }

    /// The key hash of an entry.
    @inlinable public func key(_ slot: Slot) -> UInt64 { _keys[Int(slot.index)] }
    /// The display name of an entry.
    @inlinable public func name(_ slot: Slot) -> String { storedName(Int(slot.index)) }
    /// The last update time of an entry.
    @inlinable public func lastUpdate(_ slot: Slot) -> EventTime {
        EventTime(microseconds: _lastUpdate[Int(slot.index)])
    }

    /// Evicts least recently updated entries until the byte total is within ``maxBytes`` (keeping at least one
    /// entry). Call it after updates that grow values, e.g. once per batch.
    ///
    /// - Complexity: O(1) per evicted entry.
    @inlinable
    public mutating func enforceBudget() {
        if _index.count > 1 && _bytes > maxBytes { evictForBudget() }
    }

    /// The eviction loop of ``enforceBudget()``, out of line: inlined callers only test whether it is needed.
    @usableFromInline
    mutating func evictForBudget() {
        while _index.count > 1 && _bytes > maxBytes {
            removeOldest()
            evictedForBytes &+= 1
        }
    }

    /// Evicts least recently updated entries until an entry of `bytes` fits within ``maxEntries`` and
    /// ``maxBytes`` (or the table is empty); out of line, as ``insert(key:name:value:at:)`` calls it only when
    /// the table is full.
    @usableFromInline
    mutating func makeRoom(for bytes: Int) {
        while _index.count >= maxEntries {
            removeOldest()
            evictedForCount &+= 1
        }
        while _index.count > 0 && _bytes + bytes > maxBytes {
            removeOldest()
            evictedForBytes &+= 1
        }
    }

    /// Removes entries from the oldest end of the recency list while their last update is at or before
    /// `cutoff`, at most `limit` of them.
    ///
    /// - Returns: The number of entries removed.
    /// - Complexity: O(entries removed). No allocation.
    @discardableResult
    public mutating func expireIdle(notUpdatedSince cutoff: EventTime, limit: Int = .max) -> Int {
        var removed = 0
        while removed < limit && _recency.oldest >= 0 && _lastUpdate[Int(_recency.oldest)] <= cutoff.microseconds {
            removeOldest()
            removed += 1
        }
        expired &+= UInt64(removed)
        return removed
    }

    /// Removes the entry for `key`, if any.
    ///
    /// - Complexity: O(1) expected.
    public mutating func remove(_ key: UInt64) {
        guard let i = _index.find(key, keys: _keys) else { return }
        remove(slot: i)
    }

    /// Every entry, sorted by `areInIncreasingOrder` with ties broken by key hash: a deterministic order for
    /// reports. (Closures are fine here: this runs per report, not per event.)
    ///
    /// - Complexity: O(n log n); allocates the result.
    public func entries(sortedBy areInIncreasingOrder: (Entry, Entry) -> Bool) -> [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(count)
        var i = _recency.oldest
        while i >= 0 {
            let j = Int(i)
            // Safe to force unwrap: slots on the list hold values.
            result.append(
                Entry(
                    key: _keys[j], name: storedName(j), value: _values[j]!,
                    lastUpdate: EventTime(microseconds: _lastUpdate[j])))
            i = _recency.newer[j]
        }
        return result.sorted { a, b in
            if areInIncreasingOrder(a, b) { return true }
            if areInIncreasingOrder(b, a) { return false }
            return a.key < b.key
        }
    }

    /// The key hashes from least to most recently updated.
    ///
    /// - Complexity: O(n); allocates the result.
    public func keysByRecency() -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(count)
        var i = _recency.oldest
        while i >= 0 {
            result.append(_keys[Int(i)])
            i = _recency.newer[Int(i)]
        }
        return result
    }

    // MARK: - List plumbing

    // Inlinable (with the storage above usable from inline code) so that the detection tables' per-event
    // lookups, touches and updates are specialised for their value types in the calling module: unspecialised,
    // every call went through the generic entry points and looked up type metadata at run time.

    /// The name of slot `i` (`""` beyond the names' array).
    @inlinable
    func storedName(_ i: Int) -> String { i < _names.count ? _names[i] : "" }

    /// Sets the name of slot `i`, growing the names' array only for a non-empty name: while every name is empty
    /// the array stays empty.
    ///
    /// - Complexity: O(1) amortised; O(slots) once, when the first non-empty name comes after many empty ones.
    @inlinable
    mutating func setName(_ name: String, at i: Int) {
        if i < _names.count {
            _names[i] = name
        } else if !name.isEmpty {
            while _names.count < i { _names.append("") }
            _names.append(name)
        }
    }

    @usableFromInline
    mutating func removeOldest() {
        guard _recency.oldest >= 0 else { return }
        remove(slot: _recency.oldest)
    }

    private mutating func remove(slot i: Int32) {
        removals &+= 1
        _recency.unlink(i)
        _index.remove(_keys[Int(i)], keys: _keys)
        _bytes -= _accounted[Int(i)]
        _accounted[Int(i)] = 0
        _values[Int(i)] = nil
        setName("", at: Int(i))
        _free.append(i)
    }
}

extension BoundedKeyTable: Sendable where Value: Sendable {}
extension BoundedKeyTable.Entry: Sendable where Value: Sendable {}
