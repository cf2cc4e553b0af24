/// The sketch half of ``SlidingDistinct``: one HyperLogLog register array per sub-bucket of the horizon, plus
/// their running union and the union's rank histogram.
///
/// Layout: `(subBucketCount + 1) × m` bytes in one array; sub-bucket `s` (event time floor-divided by the
/// sub-bucket width) lives at `(s mod subBucketCount) × m`, and the union of every held sub-bucket at
/// `subBucketCount × m`. The union is updated in place on insert (a register only ever grows inside a
/// sub-bucket), and rebuilt from the held sub-buckets when the ring moves forward (once per sub-bucket width
/// at most). The histogram of union ranks is kept in step so an estimate at the head costs O(64), and the
/// last estimate is cached until a union register changes.
struct SubBucketSketch: Sendable, Encodable {
    var registers: [UInt8]
    let precision: Int
    let subBucketCount: Int64
    let subBucketWidth: Int64
    /// Sub-bucket number of the newest sub-bucket.
    var head: Int64
    var unionHistogram = InlineCounts()
    var cachedEstimate: Double = 0
    var cacheValid = false

    init(precision: Int, subBucketCount: Int, subBucketWidth: Int64, head: Int64) {
        self.precision = precision
        self.subBucketCount = Int64(subBucketCount)
        self.subBucketWidth = subBucketWidth
        self.head = head
        registers = [UInt8](repeating: 0, count: (subBucketCount + 1) << precision)
        for _ in 0..<(1 << precision) { unionHistogram.increment(0) }
    }

    var m: Int { 1 << precision }
    var unionOffset: Int { Int(subBucketCount) << precision }

    /// Whether every held sub-bucket is empty.
    var isEmpty: Bool { unionHistogram[0] == UInt32(m) }

    enum InsertResult { case counted, tooLate, clearedEverything }

    /// Inserts an item seen at `time`.
    ///
    /// - Complexity: O(1) when `time` is within the held sub-buckets; O(subBucketCount × m) when it moves the
    ///   ring forward (rebuilding the union).
    mutating func insert(_ itemHash: UInt64, at time: Int64) -> InsertResult {
        let s = WindowMath.floorDiv(time, subBucketWidth)
        var result = InsertResult.counted
        if s > head {
            result = advance(to: s)
        } else if s <= head - subBucketCount {
            return .tooLate
        }
        let (i, r) = HyperLogLog.slot(itemHash, precision: precision)
        let base = WindowMath.ringIndex(s, subBucketCount) << precision
        if registers[base + i] < r { registers[base + i] = r }
        let u = unionOffset + i
        let old = registers[u]
        if old < r {
            registers[u] = r
            unionHistogram.decrement(Int(old))
            unionHistogram.increment(Int(r))
            cacheValid = false
        }
        return result
    }

    /// Moves the ring forward to sub-bucket `s`, zeroing reused sub-buckets and rebuilding the union.
    mutating func advance(to s: Int64) -> InsertResult {
        let everything: Bool
        if let d = WindowMath.distance(from: head, to: s), d < subBucketCount {
            var b = head
            while b < s {
                b += 1
                let base = WindowMath.ringIndex(b, subBucketCount) << precision
                for i in base..<(base + m) { registers[i] = 0 }
            }
            everything = false
        } else {
            for i in 0..<unionOffset { registers[i] = 0 }
            everything = true
        }
        head = s
        rebuildUnion()
        return everything ? .clearedEverything : .counted
    }

    mutating func rebuildUnion() {
        unionHistogram = InlineCounts()
        let n = Int(subBucketCount)
        let union = unionOffset
        for i in 0..<m {
            var best: UInt8 = 0
            var j = 0
            while j < n {
                let r = registers[(j << precision) + i]
                if r > best { best = r }
                j += 1
            }
            registers[union + i] = best
            unionHistogram.increment(Int(best))
        }
        cacheValid = false
    }

    /// The estimate for the window of sub-buckets `(nowSub - subBucketCount, nowSub]` intersected with the held
    /// ones.
    ///
    /// - Complexity: O(64) at the head (cached after the first call until a register changes); otherwise
    ///   O(subBucketCount × m). No allocation.
    func estimate(atSubBucket nowSub: Int64) -> Double {
        if nowSub == head {
            return cacheValid ? cachedEstimate : unionHistogram.estimate(precision: precision)
        }
        let lo = max(nowSub - subBucketCount, head - subBucketCount) + 1
        let hi = min(nowSub, head)
        guard lo <= hi else { return 0 }
        var histogram = InlineCounts()
        for i in 0..<m {
            var best: UInt8 = 0
            var b = lo
            while b <= hi {
                let r = registers[(WindowMath.ringIndex(b, subBucketCount) << precision) + i]
                if r > best { best = r }
                b += 1
            }
            histogram.increment(Int(best))
        }
        return histogram.estimate(precision: precision)
    }

    /// Caches the head estimate (called after inserts by the owner, so repeated queries cost O(1)).
    mutating func refreshCache() {
        if !cacheValid {
            cachedEstimate = unionHistogram.estimate(precision: precision)
            cacheValid = true
        }
    }
}
