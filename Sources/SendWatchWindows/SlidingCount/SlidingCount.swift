public import SendWatchCore

/// A count of events over a sliding event-time horizon, kept in a ring of `UInt32` buckets.
///
/// The horizon is split into `bucketCount` buckets of equal width (for example 10 minutes in 60 buckets of
/// 10 seconds). Bucket `b` holds the events with `floor(time / width) == b`. The newest event seen so far fixes
/// the *head* bucket; the ring holds the head bucket and the `bucketCount - 1` before it.
///
/// ``value(at:)`` answers "how many events in `(now - horizon, now]`" at bucket granularity: it sums the
/// buckets `floor(now / width) - bucketCount + 1 ... floor(now / width)` that the ring still holds. When every
/// event time and `now` are whole multiples of the bucket width, the answer is exact; otherwise the window
/// starts at the beginning of the bucket after the one holding `now - horizon`, so it covers between
/// `horizon - width` and `horizon` of history and can miss at most the events of that one partial bucket.
///
/// Late and out-of-order events: an event in any bucket the ring still holds is counted where it belongs, so
/// the allowed lateness is the horizon minus one bucket. An event older than the oldest held bucket can no longer
/// affect any answer at or after the head; it is dropped and counted in ``droppedLate``. An event newer than the
/// head moves the ring forward, zeroing the buckets it reuses (at most `bucketCount` of them, so a jump of days
/// costs the same as a jump of one horizon).
///
/// Memory: 48 bytes inline (`MemoryLayout<SlidingCount>.stride`), plus one array of `bucketCount` `UInt32`
/// (32 + 4 × `bucketCount` bytes) once two buckets held are non-zero: 320 bytes in total for 60 buckets. While
/// every event held is in the head bucket (a new count, or one whose events are further apart than the horizon:
/// most young accounts' counts) there is no array, since the head bucket's value is the running total; the
/// first event in a second bucket of the ring allocates it, and a step of a whole horizon or more with nothing
/// in between frees it again. ``approximateHeapBytes`` reports the array either way, so the key tables' budget
/// decisions (and so the alerts) do not depend on the representation.
///
/// At the bounds: a bucket saturates at `UInt32.max` (4 294 967 295 events in one bucket) and the overflow is
/// counted in ``saturatedAdds``; sums are `UInt64` and cannot overflow.
///
/// Usage:
/// ```swift
/// var sent = SlidingCount(horizonMicroseconds: 600_000_000, bucketCount: 60)
/// sent.add(1, at: event.time)
/// if sent.value(at: event.time) > 500 { ... }
/// ```
public struct SlidingCount: Sendable {
    /// The ring, or empty while every count held is in the head bucket (``_total`` is then its value).
    var _buckets: [UInt32]
    var _bucketWidth: Int64
    /// Bucket number of the newest bucket; meaningless while `_hasEvents` is false.
    var _head: Int64
    /// Sum of all buckets held (the value at the head bucket).
    var _total: UInt64
    var _droppedLate: UInt32
    var _saturatedAdds: UInt16
    var _hasEvents: Bool
    /// Buckets in the ring (whether or not ``_buckets`` holds them).
    let _bucketCount: UInt32

    /// Creates an empty count over `horizonMicroseconds`, split into `bucketCount` buckets.
    ///
    /// - Precondition: `bucketCount >= 1` and `horizonMicroseconds` is a positive whole multiple of
    ///   `bucketCount` (configuration, never input).
    public init(horizonMicroseconds: Int64, bucketCount: Int) {
        precondition(bucketCount >= 1 && bucketCount <= 1 << 20, "bucketCount must be in 1...2^20")
        precondition(WindowMath.isSpan(horizonMicroseconds), "horizon must be in 1 µs ... 2^50 µs")
        let width = horizonMicroseconds / Int64(bucketCount)
        precondition(
            width >= 1 && width * Int64(bucketCount) == horizonMicroseconds,
            "horizon must be a whole multiple of bucketCount microseconds")
        _buckets = []
        _bucketCount = UInt32(bucketCount)
        _bucketWidth = width
        _head = 0
        _total = 0
        _droppedLate = 0
        _saturatedAdds = 0
        _hasEvents = false
    }

    /// Creates an empty count over `horizon`, split into `bucketCount` buckets.
    public init(horizon: Duration, bucketCount: Int) {
        self.init(horizonMicroseconds: WindowMath.microseconds(horizon), bucketCount: bucketCount)
    }

    /// The number of buckets in the ring.
    public var bucketCount: Int { Int(_bucketCount) }

    /// The width of one bucket in microseconds.
    public var bucketWidthMicroseconds: Int64 { _bucketWidth }

    /// The horizon in microseconds (`bucketCount × bucketWidthMicroseconds`).
    public var horizonMicroseconds: Int64 { _bucketWidth * Int64(_bucketCount) }

    /// Events dropped because they were older than the oldest bucket held (saturates at `UInt32.max`).
    public var droppedLate: UInt32 { _droppedLate }

    /// Adds that hit a saturated bucket (saturates at `UInt16.max`).
    public var saturatedAdds: UInt16 { _saturatedAdds }

    /// Whether every bucket held is zero (nothing counted within one horizon of the newest event).
    public var isEmpty: Bool { _total == 0 }

    /// The sum of every bucket held: the value as of the newest event. O(1).
    public var total: UInt64 { _total }

    /// Counts `amount` events at event time `time`.
    ///
    /// - Complexity: O(1), or O(min(buckets skipped, bucketCount)) when `time` moves the ring forward. Allocates
    ///   the ring only when a second bucket of it gets a count.
    public mutating func add(_ amount: UInt32 = 1, at time: EventTime) {
        let b = WindowMath.floorDiv(WindowMath.clamp(time.microseconds), _bucketWidth)
        let n = Int64(_bucketCount)
        if _buckets.isEmpty {
            // Every count held is in the head bucket.
            if !_hasEvents || b >= _head + n {
                // The first event, or the head bucket leaves the ring: the new bucket is the only one again.
                _hasEvents = true
                _head = b
                _total = 0
            } else if b <= _head - n {
                _droppedLate = _droppedLate == .max ? .max : _droppedLate &+ 1
                return
            } else if b != _head {
                // A second bucket of the ring gets a count: hold the ring.
                _buckets = [UInt32](repeating: 0, count: Int(n))
                _buckets[WindowMath.ringIndex(_head, n)] = UInt32(truncatingIfNeeded: _total)
                addToRing(amount, bucket: b, n)
                return
            }
            // Safe: the head bucket's value is the total, at most `UInt32.max`.
            let old = UInt32(truncatingIfNeeded: _total)
            let (sum, overflow) = old.addingReportingOverflow(amount)
            if overflow { _saturatedAdds = _saturatedAdds == .max ? .max : _saturatedAdds &+ 1 }
            _total = UInt64(overflow ? .max : sum)
            return
        }
        if b >= _head + n {
            // Every bucket held leaves the ring: drop the ring, the new bucket is the only one.
            _buckets = []
            _total = 0
            _head = b
            add(amount, at: time)
            return
        }
        addToRing(amount, bucket: b, n)
    }

    /// ``add(_:at:)`` with the ring held.
    private mutating func addToRing(_ amount: UInt32, bucket b: Int64, _ n: Int64) {
        if !_hasEvents {
            _hasEvents = true
            _head = b
        } else if b > _head {
            _total &-= BucketRing.advance(&_buckets, offset: 0, count: n, from: _head, to: b)
            _head = b
        } else if b <= _head - n {
            _droppedLate = _droppedLate == .max ? .max : _droppedLate &+ 1
            return
        }
        let added = BucketRing.saturatingAdd(&_buckets, at: WindowMath.ringIndex(b, n), amount)
        if added != amount { _saturatedAdds = _saturatedAdds == .max ? .max : _saturatedAdds &+ 1 }
        _total &+= UInt64(added)
    }

    /// The number of events in the window ending at `now`, at bucket granularity (see the type discussion).
    ///
    /// A `now` at or after the newest event is the common case. A `now` before it excludes the buckets after
    /// `now`'s bucket and sees only the buckets the ring still holds.
    ///
    /// - Complexity: O(1) when `now` falls in the head bucket; otherwise O(min(distance in buckets,
    ///   bucketCount)). No allocation.
    public func value(at now: EventTime) -> UInt64 {
        guard _hasEvents else { return 0 }
        let nb = WindowMath.floorDiv(WindowMath.clamp(now.microseconds), _bucketWidth)
        if nb == _head { return _total }
        let n = Int64(_bucketCount)
        if _buckets.isEmpty {
            // Only the head bucket holds counts: in the window `(nb - n, nb]` or not.
            return nb > _head && nb - _head < n ? _total : 0
        }
        if nb > _head {
            // The window (nb - n, nb] drops the oldest (nb - head) buckets held.
            guard let d = WindowMath.distance(from: _head, to: nb), d < n else { return 0 }
            let gone = BucketRing.sum(
                _buckets, offset: 0, count: n, head: _head, after: _head - n, through: _head - n + d)
            return _total - gone
        }
        guard let d = WindowMath.distance(from: nb, to: _head), d < n else { return 0 }
        return BucketRing.sum(_buckets, offset: 0, count: n, head: _head, after: nb - n, through: nb)
    }

    /// Forgets every event, keeping the configuration and the counters of dropped and saturated adds.
    ///
    /// - Complexity: O(1); frees the ring.
    public mutating func removeAll() {
        _buckets = []
        _total = 0
        _hasEvents = false
    }
}

extension SlidingCount: ApproximateHeapSize {
    /// 32 + 4 × `bucketCount` bytes: the ring, also while it is not held (see the type's Memory), so that the
    /// figure depends only on the configuration.
    public var approximateHeapBytes: Int { arrayHeapBytes(Int(_bucketCount), of: UInt32.self) }
}
