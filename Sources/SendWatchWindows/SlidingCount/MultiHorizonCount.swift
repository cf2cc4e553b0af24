public import SendWatchCore

/// Event counts over several sliding horizons at once (for example 1 min, 10 min, 1 h and 24 h), each at its
/// own bucket resolution, in one compact array per key.
///
/// Every horizon is a ring of `UInt32` buckets, like ``SlidingCount``, laid end to end in a single array; the
/// layout (horizons and bucket counts) lives in a shared ``Layout`` whose storage is shared by every instance
/// (copy-on-write, one reference per key). All rings advance from one head: the newest event time. An event
/// increments one bucket per horizon (one per ring; coarse horizons reuse nothing from fine ones, which keeps
/// late events exact per ring).
///
/// Semantics per horizon are those of ``SlidingCount``: ``value(horizon:at:)`` sums the buckets of
/// `(floor(now / width) - bucketCount, floor(now / width)]`, exact when times are multiples of that horizon's
/// bucket width, otherwise covering between `horizon - width` and `horizon` of history. A late event is
/// counted in every ring that still holds its bucket; it is counted in ``droppedLate`` only when no ring does
/// (older than the longest horizon).
///
/// Memory: inline 29 bytes (stride 32) plus one array of Σ bucketCount `UInt32`: with ``Layout/standard``
/// (6 + 10 + 12 + 24 = 52 buckets) that is 32 + 208 bytes on the heap, 272 bytes per key in all.
///
/// At the bounds: buckets saturate at `UInt32.max`; sums are `UInt64`.
public struct MultiHorizonCount: Sendable {
    /// The horizons and their resolutions, shared by every instance made from it.
    public struct Layout: Sendable, Equatable {
        struct Ring: Sendable, Equatable {
            var width: Int64
            var count: Int64
            var offset: Int
        }

        var rings: [Ring]

        /// The total number of buckets across horizons.
        public var totalBuckets: Int {
            // Safe to force unwrap: `init` requires at least one horizon.
            let last = rings.last!
            return last.offset + Int(last.count)
        }

        /// Creates a layout from `(horizonMicroseconds, bucketCount)` pairs, one per horizon.
        ///
        /// - Precondition: at least one horizon; each horizon is a positive whole multiple of its bucket count.
        public init(horizons: [(horizonMicroseconds: Int64, bucketCount: Int)]) {
            precondition(!horizons.isEmpty, "at least one horizon")
            var rings: [Ring] = []
            var offset = 0
            for (h, n) in horizons {
                precondition(
                    n >= 1 && n <= 1 << 20 && WindowMath.isSpan(h) && h % Int64(n) == 0,
                    "horizon must be in 1 µs ... 2^50 µs and a whole multiple of bucketCount")
                rings.append(Ring(width: h / Int64(n), count: Int64(n), offset: offset))
                offset += n
            }
            self.rings = rings
        }

        /// 1 min in 6 × 10 s, 10 min in 10 × 1 min, 1 h in 12 × 5 min and 24 h in 24 × 1 h (52 buckets).
        public static let standard = Layout(horizons: [
            (60_000_000, 6), (600_000_000, 10), (3_600_000_000, 12), (86_400_000_000, 24),
        ])

        /// The number of horizons.
        public var horizonCount: Int { rings.count }

        /// The horizon at `index`, in microseconds.
        public func horizonMicroseconds(_ index: Int) -> Int64 { rings[index].width * rings[index].count }
    }

    /// The counts' fields, in the order a checkpoint saves them (synthesized `Codable`; ``init(from:)`` checks
    /// them).
    struct State: Sendable, Codable {
        let layout: Layout
        var buckets: [UInt32]
        var head: Int64
        var droppedLate: UInt32
        var hasEvents: Bool
    }

    var state: State

    /// Creates empty counts for every horizon of `layout`.
    public init(layout: Layout = .standard) {
        state = State(
            layout: layout, buckets: [UInt32](repeating: 0, count: layout.totalBuckets), head: 0, droppedLate: 0,
            hasEvents: false)
    }

    /// The layout this instance counts with.
    public var layout: Layout { state.layout }

    /// Events older than the longest horizon's oldest bucket, dropped (saturates at `UInt32.max`).
    public var droppedLate: UInt32 { state.droppedLate }

    /// The newest event time seen, or `nil` before the first event.
    public var newestEventTime: EventTime? { state.hasEvents ? EventTime(microseconds: state.head) : nil }

    /// Counts `amount` events at `time` in every horizon.
    ///
    /// - Complexity: O(horizons), plus O(buckets reused) when `time` moves the rings forward. No allocation.
    public mutating func add(_ amount: UInt32 = 1, at time: EventTime) {
        let t = WindowMath.clamp(time.microseconds)
        if !state.hasEvents {
            state.hasEvents = true
            state.head = t
        }
        var counted = false
        for ring in state.layout.rings {
            let b = WindowMath.floorDiv(t, ring.width)
            let hb = WindowMath.floorDiv(state.head, ring.width)
            if b > hb {
                _ = BucketRing.advance(&state.buckets, offset: ring.offset, count: ring.count, from: hb, to: b)
            } else if b <= hb - ring.count {
                continue
            }
            _ = BucketRing.saturatingAdd(&state.buckets, at: ring.offset + WindowMath.ringIndex(b, ring.count), amount)
            counted = true
        }
        if t > state.head { state.head = t }
        if !counted { state.droppedLate = state.droppedLate == .max ? .max : state.droppedLate &+ 1 }
    }

    /// The number of events in horizon `index` of the layout for the window ending at `now` (bucket
    /// granularity; see ``SlidingCount/value(at:)``).
    ///
    /// - Complexity: O(bucket count of that horizon). No allocation.
    public func value(horizon index: Int, at now: EventTime) -> UInt64 {
        guard state.hasEvents else { return 0 }
        let ring = state.layout.rings[index]
        let nb = WindowMath.floorDiv(WindowMath.clamp(now.microseconds), ring.width)
        let hb = WindowMath.floorDiv(state.head, ring.width)
        return BucketRing.sum(
            state.buckets, offset: ring.offset, count: ring.count, head: hb, after: nb - ring.count,
            through: nb)
    }

    /// Whether every horizon is empty as of the newest event.
    ///
    /// - Complexity: O(total buckets).
    public var isEmpty: Bool {
        for b in state.buckets where b != 0 { return false }
        return true
    }
}

extension MultiHorizonCount: ApproximateHeapSize {
    /// 32 + 4 × total buckets (the shared layout is not counted per key).
    public var approximateHeapBytes: Int { arrayHeapBytes(state.buckets.count, of: UInt32.self) }
}

extension MultiHorizonCount {
    /// Checks that the bucket array matches the layout. Traps when it does not.
    public func _checkInvariants() {
        precondition(state.buckets.count == state.layout.totalBuckets, "MultiHorizonCount: bucket array size")
        precondition(
            state.hasEvents || state.buckets.allSatisfy { $0 == 0 }, "MultiHorizonCount: counts without events")
    }
}
