import SendWatchCore

extension SlidingCount: Codable {
    /// The saved fields, in the order ``encode(to:)`` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case _buckets = "buckets"
        case _bucketWidth = "bucketWidth"
        case _head = "head"
        case _total = "total"
        case _droppedLate = "droppedLate"
        case _saturatedAdds = "saturatedAdds"
        case _hasEvents = "hasEvents"
    }

    /// Restores a count saved with ``encode(to:)``: the buckets, the bucket width (and so the horizon), the head,
    /// the running total and the counters of dropped and saturated adds.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the bucket count or width is outside what
    ///   ``init(horizonMicroseconds:bucketCount:)`` accepts, the head is out of range, or the running total is
    ///   not the sum of the buckets.
    /// - Complexity: O(bucketCount).
    public init(from decoder: any Decoder) throws {
        // Fields are decoded in the order of `CodingKeys`, the order the synthesized `encode(to:)` writes them
        // (positional coders rely on it).
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let buckets = try c.decode([UInt32].self, forKey: ._buckets)
        let width = try c.decode(Int64.self, forKey: ._bucketWidth)
        let head = try c.decode(Int64.self, forKey: ._head)
        let total = try c.decode(UInt64.self, forKey: ._total)
        let droppedLate = try c.decode(UInt32.self, forKey: ._droppedLate)
        let saturatedAdds = try c.decode(UInt16.self, forKey: ._saturatedAdds)
        let hasEvents = try c.decode(Bool.self, forKey: ._hasEvents)
        try StateCheck.require(
            !buckets.isEmpty && buckets.count <= 1 << 20,
            "SlidingCount: bucket count \(buckets.count) not in 1...2^20", decoder)
        try StateCheck.require(
            width >= 1 && width <= WindowMath.maxSpanMicroseconds / Int64(buckets.count),
            "SlidingCount: bucket width \(width) µs out of range", decoder)
        try StateCheck.require(StateCheck.isPosition(head), "SlidingCount: head bucket \(head) out of range", decoder)
        var sum: UInt64 = 0
        for b in buckets { sum += UInt64(b) }
        try StateCheck.require(
            sum == total && (hasEvents || total == 0),
            "SlidingCount: total \(total) is not the bucket sum \(sum)", decoder)
        // Counts only in the head bucket are held without the ring, as ``add(_:at:)`` leaves them.
        _buckets = buckets[WindowMath.ringIndex(head, Int64(buckets.count))] == total ? [] : buckets
        _bucketCount = UInt32(buckets.count)
        _bucketWidth = width
        _head = head
        _total = total
        _droppedLate = droppedLate
        _saturatedAdds = saturatedAdds
        _hasEvents = hasEvents
    }

    /// Saves the ring (written out in full also while it is not held), the bucket width, the head, the running
    /// total and the counters of dropped and saturated adds.
    ///
    /// - Complexity: O(bucketCount).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var buckets = _buckets
        if buckets.isEmpty {
            let n = Int64(_bucketCount)
            buckets = [UInt32](repeating: 0, count: Int(n))
            // Safe: without the ring, the head bucket's value is the total, at most `UInt32.max`.
            if _hasEvents { buckets[WindowMath.ringIndex(_head, n)] = UInt32(truncatingIfNeeded: _total) }
        }
        try c.encode(buckets, forKey: ._buckets)
        try c.encode(_bucketWidth, forKey: ._bucketWidth)
        try c.encode(_head, forKey: ._head)
        try c.encode(_total, forKey: ._total)
        try c.encode(_droppedLate, forKey: ._droppedLate)
        try c.encode(_saturatedAdds, forKey: ._saturatedAdds)
        try c.encode(_hasEvents, forKey: ._hasEvents)
    }
}

extension MultiHorizonCount.Layout: Codable {
    enum CodingKeys: String, CodingKey {
        case horizonMicroseconds, bucketCounts
    }

    /// Restores a layout from its horizons and bucket counts.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when there is no horizon, the arrays differ in length, or a
    ///   horizon is not one that ``init(horizons:)`` accepts.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let horizons = try c.decode([Int64].self, forKey: .horizonMicroseconds)
        let counts = try c.decode([Int64].self, forKey: .bucketCounts)
        try StateCheck.require(
            !horizons.isEmpty && horizons.count == counts.count && horizons.count <= 64,
            "MultiHorizonCount.Layout: \(horizons.count) horizons, \(counts.count) counts", decoder)
        var total = 0
        for (h, n) in zip(horizons, counts) {
            try StateCheck.require(
                n >= 1 && n <= 1 << 20 && WindowMath.isSpan(h) && h % n == 0,
                "MultiHorizonCount.Layout: horizon \(h) µs in \(n) buckets", decoder)
            total += Int(n)
        }
        try StateCheck.require(total <= 1 << 22, "MultiHorizonCount.Layout: \(total) buckets", decoder)
        self.init(horizons: zip(horizons, counts).map { ($0, Int($1)) })
    }

    /// Saves the horizons and their bucket counts.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rings.map { $0.width * $0.count }, forKey: .horizonMicroseconds)
        try c.encode(rings.map(\.count), forKey: .bucketCounts)
    }
}

extension MultiHorizonCount: Codable {
    /// Restores counts saved with ``encode(to:)``, layout included.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the bucket array does not match the layout, the head time is
    ///   out of range, or there are counts without events.
    /// - Complexity: O(total buckets).
    public init(from decoder: any Decoder) throws {
        let s = try State(from: decoder)
        try StateCheck.require(
            s.buckets.count == s.layout.totalBuckets,
            "MultiHorizonCount: \(s.buckets.count) buckets, layout has \(s.layout.totalBuckets)", decoder)
        try StateCheck.require(StateCheck.isPosition(s.head), "MultiHorizonCount: head \(s.head) out of range", decoder)
        try StateCheck.require(
            s.hasEvents || s.buckets.allSatisfy { $0 == 0 }, "MultiHorizonCount: counts without events", decoder)
        state = s
    }

    /// Saves the fields of ``State`` in their order: the layout, the buckets of every horizon, the newest time and
    /// the count of late events dropped.
    public func encode(to encoder: any Encoder) throws { try state.encode(to: encoder) }
}
