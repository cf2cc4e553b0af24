extension SlidingCount {
    /// Checks the internal invariants: the running total equals the sum of the buckets (without the ring, it is
    /// the head bucket's value, at most `UInt32.max`), a ring held has `bucketCount` buckets, and an empty count
    /// has no counts. Traps (programmer error) when one fails.
    ///
    /// - Complexity: O(bucketCount).
    public func _checkInvariants() {
        var sum: UInt64 = 0
        for b in _buckets { sum += UInt64(b) }
        if _buckets.isEmpty {
            precondition(_total <= UInt64(UInt32.max), "SlidingCount: head bucket total \(_total) too large")
        } else {
            precondition(sum == _total, "SlidingCount: running total \(_total) != bucket sum \(sum)")
            precondition(_buckets.count == Int(_bucketCount), "SlidingCount: ring of \(_buckets.count) buckets")
        }
        precondition(_hasEvents || _total == 0, "SlidingCount: counts without events")
        precondition(_bucketWidth >= 1 && _bucketCount >= 1, "SlidingCount: bad configuration")
    }

    /// Whether the ring is held (an array of `bucketCount` buckets), or every count is in the head bucket.
    public var _holdsRing: Bool { !_buckets.isEmpty }
}
