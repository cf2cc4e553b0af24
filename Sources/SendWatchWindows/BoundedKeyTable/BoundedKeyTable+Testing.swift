import SendWatchCore

extension BoundedKeyTable {
    /// Checks the recency list, the index, the free list and the byte total against each other. Traps when one
    /// fails.
    ///
    /// - Complexity: O(slots).
    public func _checkInvariants() {
        var seen = 0
        var bytes = 0
        var i = _recency.oldest
        var previous: Int32 = -1
        while i >= 0 {
            let j = Int(i)
            precondition(_recency.older[j] == previous, "BoundedKeyTable: prev link of \(j)")
            precondition(_index.find(_keys[j], keys: _keys) == i, "BoundedKeyTable: index of \(j)")
            precondition(_values[j] != nil, "BoundedKeyTable: live slot without value")
            bytes += _accounted[j]
            seen += 1
            precondition(seen <= _index.count, "BoundedKeyTable: list cycle")
            previous = i
            i = _recency.newer[j]
        }
        precondition(previous == _recency.newest, "BoundedKeyTable: newest end")
        precondition(seen == _index.count, "BoundedKeyTable: list has \(seen), index \(_index.count)")
        precondition(seen + _free.count == _keys.count, "BoundedKeyTable: free list")
        precondition(bytes == _bytes, "BoundedKeyTable: bytes \(bytes) != \(_bytes)")
        precondition(_index.count <= maxEntries, "BoundedKeyTable: over maxEntries")
        for f in _free { precondition(_values[Int(f)] == nil, "BoundedKeyTable: free slot holds a value") }
    }
}

extension BoundedKeyTable {
    /// How many slots the names' array reaches (only as far as the last slot given a non-empty name), for the
    /// tests of a table without names.
    public var _nameSlots: Int { _names.count }
}
