import SendWatchCore

/// The keys of a saved ``BoundedKeyTable``.
enum BoundedKeyTableCodingKeys: String, CodingKey {
    case maxEntries, maxBytes, keys, names, values, lastUpdate, accounted, prev, next, free, oldest, newest, bytes
    case evictedForCount, evictedForBytes, expired
}

extension BoundedKeyTable: Encodable where Value: Encodable {
    /// Saves the bounds, every slot (live or free) as parallel arrays, the free list, the recency list's links
    /// and ends, the byte total and the eviction counters. The key-to-slot index is not saved: it is rebuilt.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: BoundedKeyTableCodingKeys.self)
        try c.encode(maxEntries, forKey: .maxEntries)
        try c.encode(maxBytes, forKey: .maxBytes)
        try c.encode(_keys, forKey: .keys)
        // One name per slot, as before the names' array could be shorter than the others.
        try c.encode(_names.count == _keys.count ? _names : (0..<_keys.count).map(storedName), forKey: .names)
        try c.encode(_values, forKey: .values)
        try c.encode(_lastUpdate, forKey: .lastUpdate)
        try c.encode(_accounted.map { Int64($0) }, forKey: .accounted)
        try c.encode(_recency.older, forKey: .prev)
        try c.encode(_recency.newer, forKey: .next)
        try c.encode(_free, forKey: .free)
        try c.encode(_recency.oldest, forKey: .oldest)
        try c.encode(_recency.newest, forKey: .newest)
        try c.encode(Int64(_bytes), forKey: .bytes)
        try c.encode(evictedForCount, forKey: .evictedForCount)
        try c.encode(evictedForBytes, forKey: .evictedForBytes)
        try c.encode(expired, forKey: .expired)
    }
}

extension BoundedKeyTable: Decodable where Value: Decodable {
    /// Restores a table saved with ``encode(to:)``, slot for slot, so that slots, recency order, free-slot reuse
    /// and byte accounting continue exactly as before. The entries' byte figures are taken as saved (not
    /// recomputed), so the budget decisions stay those of the saved table.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the bounds are invalid, the slot arrays differ in length, a
    ///   free-list or list link is out of range or points at the wrong kind of slot, the recency list does not
    ///   visit every live slot exactly once, a key is live twice, a byte figure is out of range or does not add
    ///   up, or a time or counter is out of range.
    /// - Complexity: O(slots).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: BoundedKeyTableCodingKeys.self)
        let maxEntries = try c.decode(Int.self, forKey: .maxEntries)
        let maxBytes = try c.decode(Int.self, forKey: .maxBytes)
        try StateCheck.require(
            maxEntries >= 1 && maxEntries < Int(Int32.max) && maxBytes >= 0,
            "BoundedKeyTable: bounds \(maxEntries) entries, \(maxBytes) bytes", decoder)
        self.init(maxEntries: maxEntries, maxBytes: maxBytes)
        let keys = try c.decode([UInt64].self, forKey: .keys)
        let names = try c.decode([String].self, forKey: .names)
        let values = try c.decode([Value?].self, forKey: .values)
        let lastUpdate = try c.decode([Int64].self, forKey: .lastUpdate)
        let accounted = try c.decode([Int64].self, forKey: .accounted)
        let prev = try c.decode([Int32].self, forKey: .prev)
        let next = try c.decode([Int32].self, forKey: .next)
        let free = try c.decode([Int32].self, forKey: .free)
        let oldest = try c.decode(Int32.self, forKey: .oldest)
        let newest = try c.decode(Int32.self, forKey: .newest)
        let bytes = try c.decode(Int64.self, forKey: .bytes)
        let n = keys.count
        try StateCheck.require(
            names.count == n && values.count == n && lastUpdate.count == n && accounted.count == n && prev.count == n
                && next.count == n && n < Int(Int32.max),
            "BoundedKeyTable: slot arrays differ in length", decoder)
        try StateCheck.require(lastUpdate.allSatisfy(StateCheck.isTime), "BoundedKeyTable: time out of range", decoder)
        try StateCheck.require(
            accounted.allSatisfy(StateCheck.isCount) && StateCheck.isCount(bytes),
            "BoundedKeyTable: byte figure out of range", decoder)
        // Free slots: in range, listed once, without a value and accounted at 0.
        var isFree = [Bool](repeating: false, count: n)
        for f in free {
            try StateCheck.require(f >= 0 && Int(f) < n && !isFree[Int(f)], "BoundedKeyTable: free slot \(f)", decoder)
            isFree[Int(f)] = true
            try StateCheck.require(
                values[Int(f)] == nil && accounted[Int(f)] == 0,
                "BoundedKeyTable: free slot \(f) holds an entry", decoder)
        }
        // The recency list: from `oldest` to `newest` through every live slot once, with matching back links.
        let live = n - free.count
        var index: [UInt64: Int32] = [:]
        index.reserveCapacity(live)
        var sum: Int64 = 0
        var previous: Int32 = -1
        var i = oldest
        while i != -1 {
            try StateCheck.require(
                i >= 0 && Int(i) < n && !isFree[Int(i)] && index.count < live,
                "BoundedKeyTable: recency link to \(i)", decoder)
            let j = Int(i)
            try StateCheck.require(
                prev[j] == previous && values[j] != nil,
                "BoundedKeyTable: slot \(j) has a bad back link or no value", decoder)
            try StateCheck.require(
                index.updateValue(i, forKey: keys[j]) == nil, "BoundedKeyTable: key live twice",
                decoder)
            sum += accounted[j]
            previous = i
            i = next[j]
        }
        try StateCheck.require(
            previous == newest && index.count == live,
            "BoundedKeyTable: recency list holds \(index.count) of \(live) entries", decoder)
        try StateCheck.require(sum == bytes, "BoundedKeyTable: bytes \(bytes) != sum \(sum)", decoder)
        let evictedForCount = try c.decode(UInt64.self, forKey: .evictedForCount)
        let evictedForBytes = try c.decode(UInt64.self, forKey: .evictedForBytes)
        let expired = try c.decode(UInt64.self, forKey: .expired)
        let limit = UInt64(StateCheck.maxCount)
        try StateCheck.require(
            evictedForCount <= limit && evictedForBytes <= limit && expired <= limit,
            "BoundedKeyTable: counter out of range", decoder)
        _keys = keys
        // Names only up to the last non-empty one (see ``setName(_:at:)``).
        _names = Array(names[..<(names.lastIndex { !$0.isEmpty }.map { $0 + 1 } ?? 0)])
        _values = values
        _lastUpdate = lastUpdate
        _accounted = accounted.map { Int($0) }
        _recency = RecencyList(older: prev, newer: next, oldest: oldest, newest: newest, detached: -1)
        _index = KeyIndex(index, keys: keys)
        _free = free
        _bytes = Int(bytes)
        self.evictedForCount = evictedForCount
        self.evictedForBytes = evictedForBytes
        self.expired = expired
    }
}

extension BoundedKeyTable {
    /// Calls `body` with every live value, from least to most recently updated (for checks on restored state).
    ///
    /// - Complexity: O(n). No allocation.
    package func forEachValue(_ body: (Value) throws -> Void) rethrows {
        var i = _recency.oldest
        while i >= 0 {
            // Safe to force unwrap: slots on the list hold values.
            try body(_values[Int(i)]!)
            i = _recency.newer[Int(i)]
        }
    }
}
