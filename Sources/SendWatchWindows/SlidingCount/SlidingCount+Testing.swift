extension SlidingCount {
    /// Checks the internal invariants: the running total equals the sum of the buckets, and an empty ring has
    /// no counts. Traps (programmer error) when one fails.
    ///
    /// - Complexity: O(bucketCount).
    public func _checkInvariants() {
        var sum: UInt64 = 0
        for b in _buckets { sum += UInt64(b) }
        precondition(sum == _total, "SlidingCount: running total \(_total) != bucket sum \(sum)")
        precondition(_hasEvents || _total == 0, "SlidingCount: counts without events")
        precondition(_bucketWidth >= 1 && !_buckets.isEmpty, "SlidingCount: bad configuration")
    }
}
