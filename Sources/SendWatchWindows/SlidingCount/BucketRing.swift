/// Ring-of-buckets operations shared by ``SlidingCount`` and ``MultiHorizonCount``.
///
/// A ring of `count` `UInt32` buckets starting at `offset` inside a larger array. Bucket number `b` (event time
/// floor-divided by the bucket width) lives at `offset + b mod count`. The ring is "at" head bucket `head`:
/// it holds buckets `head - count + 1 ... head`. Everything older is gone.
enum BucketRing {
    /// Moves the ring forward from `head` to `newHead`, zeroing the buckets that are reused.
    ///
    /// - Returns: The sum of the bucket values that were zeroed (left the ring).
    /// - Complexity: O(min(newHead - head, count)).
    static func advance(
        _ buckets: inout [UInt32], offset: Int, count: Int64, from head: Int64, to newHead: Int64
    ) -> UInt64 {
        var removed: UInt64 = 0
        guard let steps = WindowMath.distance(from: head, to: newHead), steps < count else {
            for i in offset..<(offset + Int(count)) {
                removed &+= UInt64(buckets[i])
                buckets[i] = 0
            }
            return removed
        }
        var b = head
        while b < newHead {
            b += 1
            let i = offset + WindowMath.ringIndex(b, count)
            removed &+= UInt64(buckets[i])
            buckets[i] = 0
        }
        return removed
    }

    /// Adds `amount` to the bucket at `index`, saturating at `UInt32.max`.
    ///
    /// - Returns: The amount actually added (less than `amount` only when the bucket saturated).
    @inline(__always)
    static func saturatingAdd(_ buckets: inout [UInt32], at index: Int, _ amount: UInt32) -> UInt32 {
        let old = buckets[index]
        let (sum, overflow) = old.addingReportingOverflow(amount)
        if overflow {
            buckets[index] = .max
            return .max - old
        }
        buckets[index] = sum
        return amount
    }

    /// The sum of buckets `lo + 1 ... hi` (bucket numbers, clamped to the ring held at `head`).
    ///
    /// - Complexity: O(min(hi - lo, count)).
    static func sum(
        _ buckets: [UInt32], offset: Int, count: Int64, head: Int64, after lo: Int64, through hi: Int64
    ) -> UInt64 {
        let first = max(lo, head - count) + 1
        let last = min(hi, head)
        guard first <= last else { return 0 }
        var total: UInt64 = 0
        var b = first
        while b <= last {
            total &+= UInt64(buckets[offset + WindowMath.ringIndex(b, count)])
            b += 1
        }
        return total
    }
}
