extension SlidingDistinct {
    /// Checks the mode invariants: at most `exactCapacity` distinct pairs in exact mode, the oldest sighting kept
    /// with an array of pairs equal to a recount, and no pairs in sketch mode; the sketch's union equals the
    /// maximum of its sub-buckets and its histogram matches the union.
    ///
    /// - Complexity: O(exactCapacity²) or O((subBucketCount + 1) × m).
    public func _checkInvariants() {
        if case .sketch(let box) = _storage {
            let sketch = box.sketch
            var histogram = [Int](repeating: 0, count: 66)
            for i in 0..<sketch.m {
                var best: UInt8 = 0
                for j in 0..<Int(sketch.subBucketCount) {
                    best = max(best, sketch.registers[(j << sketch.precision) + i])
                }
                precondition(sketch.registers[sketch.unionOffset + i] == best, "SlidingDistinct: union register \(i)")
                histogram[Int(best)] += 1
            }
            for r in 0..<66 {
                precondition(UInt32(histogram[r]) == sketch.unionHistogram[r], "SlidingDistinct: histogram")
            }
        } else {
            if case .many(let entries, let oldest) = _storage {
                precondition(entries.count != 1, "SlidingDistinct: one pair in an array")
                let recounted = entries.reduce(Int64.max) { min($0, $1.lastSeen) }
                precondition(oldest == recounted, "SlidingDistinct: oldest sighting \(oldest), recounted \(recounted)")
            }
            precondition(exactCount <= Int(_exactCapacity), "SlidingDistinct: too many pairs")
            let items = (withExactEntries { $0.map(\.item) } ?? []).sorted()
            for i in items.indices.dropFirst() { precondition(items[i] != items[i - 1], "SlidingDistinct: duplicate") }
        }
    }
}
