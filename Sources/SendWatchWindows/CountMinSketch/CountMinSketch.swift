public import SendWatchCore

/// Approximate per-item counts for a long tail of items (Count-Min with conservative update), over a window
/// of two rotating event-time epochs.
///
/// `depth` rows of `width` `UInt32` counters; an item (a 64-bit hash, mixed with a fixed finaliser) maps to one
/// counter per row by double hashing. The estimate is the smallest of its counters. *Conservative update*
/// raises each of the item's counters only as far as `min + count`, which leaves the bound below intact and
/// makes estimates much tighter on skewed streams.
///
/// Windowing: event time is cut into epochs of ``epochMicroseconds``. Two tables are kept, the current epoch
/// and the previous one; an estimate adds both, so it covers between one and two epochs of history (the
/// documented approximation: the window is not sliding, it steps once per epoch). When an event opens a new
/// epoch, the current table becomes the previous one (or both are cleared after a gap of two epochs or more).
/// A late event for the previous epoch is added there; an older one is dropped and counted in
/// ``droppedLate``.
///
/// Error bound (Cormode & Muthukrishnan): with `width = ⌈e / ε⌉` (rounded up to a power of two here) and
/// `depth = ⌈ln(1 / δ)⌉`, for every item `true ≤ estimate ≤ true + ε × N` with probability at least
/// `1 - δ`,
/// where `N` is the total count in the two live epochs. Conservative update never underestimates either.
/// Measured on a Zipf(1.1) stream of 200 000 events over 50 000 items with ε = 0.001, δ = 0.01 (width 4 096,
/// so ε N = 133): 1 of 50 000 items over the bound (δ allows 500), mean overestimate 2.9 (see
/// `CountMinSketchTests`).
///
/// Memory: `2 × depth × width × 4` bytes plus 32 bytes of header, fixed: ε = 0.001, δ = 0.01 gives
/// width 4 096, depth 5, 160 KiB; one instance per table, not per key.
///
/// At the bounds: counters saturate at `UInt32.max` (the estimate then stays at the maximum, still never
/// below the truth up to that value).
public struct CountMinSketch: Sendable {
    /// The sketch's fields, in the order a checkpoint saves them (synthesized `Codable`; ``init(from:)`` checks
    /// them).
    struct State: Sendable, Codable {
        var counters: [UInt32]
        let width: Int
        let depth: Int
        let epochMicroseconds: Int64
        /// Which half of `counters` holds the current epoch (0 or 1).
        var currentHalf: Int
        var epoch: Int64
        var currentTotal: UInt64
        var previousTotal: UInt64
        var droppedLate: UInt64
        var hasEvents: Bool
    }

    var state: State

    /// Creates a sketch with `width` counters per row (rounded up to a power of two) and `depth` rows.
    ///
    /// - Precondition: `1 <= depth <= 16`, `1 <= width <= 2^24`, `epochMicroseconds > 0` (configuration).
    public init(width: Int, depth: Int, epochMicroseconds: Int64) {
        let w = Int.powerOfTwo(atLeast: width)
        precondition(
            width >= 1 && Self.isSize(width: w, depth: depth) && WindowMath.isSpan(epochMicroseconds),
            "invalid CountMinSketch size")
        state = State(
            counters: [UInt32](repeating: 0, count: 2 * w * depth), width: w, depth: depth,
            epochMicroseconds: epochMicroseconds, currentHalf: 0, epoch: 0, currentTotal: 0, previousTotal: 0,
            droppedLate: 0, hasEvents: false)
    }

    /// Creates a sketch whose estimates exceed the truth by at most `epsilon × N` with probability at least
    /// `1 - delta`: `width = ⌈e / ε⌉` rounded up to a power of two, `depth = ⌈ln(1 / δ)⌉`.
    ///
    /// - Precondition: `0 < epsilon < 1`, `0 < delta < 1`.
    public init(epsilon: Double, delta: Double, epochMicroseconds: Int64) {
        precondition(epsilon > 0 && epsilon < 1 && delta > 0 && delta < 1, "epsilon and delta must be in (0, 1)")
        let e = 2.718_281_828_459_045
        let width = Int((e / epsilon).rounded(.up))
        // The smallest depth with e^-depth <= delta, without libm.
        var depth = 1
        var p = 1 / e
        while p > delta && depth < 16 {
            depth += 1
            p /= e
        }
        self.init(width: width, depth: depth, epochMicroseconds: epochMicroseconds)
    }

    /// Counters per row (a power of two).
    public var width: Int { state.width }
    /// Rows.
    public var depth: Int { state.depth }
    /// The epoch length in microseconds.
    public var epochMicroseconds: Int64 { state.epochMicroseconds }
    /// The ε of the bound for this width: `e / width`.
    public var epsilon: Double { 2.718_281_828_459_045 / Double(state.width) }
    /// Events older than the previous epoch, dropped.
    public var droppedLate: UInt64 { state.droppedLate }
    /// The total count in the two live epochs (`N` of the bound).
    public var totalCount: UInt64 { state.currentTotal &+ state.previousTotal }

    /// Adds `count` occurrences of `item` at `time`.
    ///
    /// - Complexity: O(depth), or O(depth × width) when `time` opens a new epoch (clearing a table). No
    ///   allocation.
    public mutating func add(_ item: UInt64, count: UInt32 = 1, at time: EventTime) {
        state.add(item, count: count, at: time)
    }

    /// The estimated count of `item` over the current and previous epochs as seen at `now`.
    ///
    /// A `now` in the epoch after the current one is answered as if the tables had rotated (previous = current);
    /// later, 0. A `now` in the previous epoch sees only the previous table (the one before it is gone).
    ///
    /// - Complexity: O(depth). No allocation.
    public func estimate(_ item: UInt64, at now: EventTime) -> UInt64 { state.estimate(item, at: now) }
}

// The sketch's work is done on its `State`, whose fields it reads directly.
extension CountMinSketch.State {
    @inline(__always)
    func rowIndex(_ h: UInt64, row: Int) -> Int {
        Self.rowIndex(row, halves: Self.halves(h), mask: UInt32(truncatingIfNeeded: width - 1), width: width)
    }

    /// The two 32-bit hashes of the double hashing ``rowIndex(_:row:)`` does, from the mixed hash `h`.
    @inline(__always)
    static func halves(_ h: UInt64) -> (UInt32, UInt32) {
        (UInt32(truncatingIfNeeded: h), UInt32(truncatingIfNeeded: h >> 32) | 1)
    }

    /// The index of `row`'s counter for the hash `halves` in a table of rows `width` long (`mask` = width - 1).
    @inline(__always)
    static func rowIndex(_ row: Int, halves: (UInt32, UInt32), mask: UInt32, width: Int) -> Int {
        row * width + Int((halves.0 &+ UInt32(truncatingIfNeeded: row) &* halves.1) & mask)
    }

    /// See ``CountMinSketch/add(_:count:at:)``.
    mutating func add(_ item: UInt64, count: UInt32 = 1, at time: EventTime) {
        let e = WindowMath.floorDiv(WindowMath.clamp(time.microseconds), epochMicroseconds)
        if !hasEvents {
            hasEvents = true
            epoch = e
        } else if e > epoch {
            rotate(to: e)
        }
        let half: Int
        if e == epoch {
            half = currentHalf
            currentTotal &+= UInt64(count)
        } else if e == epoch - 1 {
            half = 1 - currentHalf
            previousTotal &+= UInt64(count)
        } else {
            droppedLate &+= 1
            return
        }
        let (width, depth) = (width, depth)
        let base = half * width * depth
        let h = WindowMath.mix(item)
        // Through one buffer: one uniqueness check per add instead of one per counter written, and no bounds
        // check per counter (a row index is below `width` and `base` leaves room for `depth` rows: `init` and a
        // restored state's check keep `counters` 2 × width × depth long, tested once here).
        counters.withUnsafeMutableBufferPointer { c in
            // A shorter array would be a broken invariant, not bad input: trap rather than skip the update after
            // the totals above counted it.
            precondition(base >= 0 && base + width * depth <= c.count, "count-min sketch counters too short")
            guard let p = c.baseAddress else { return }
            let halves = Self.halves(h)
            let mask = UInt32(truncatingIfNeeded: width - 1)
            var minimum = UInt32.max
            for row in 0..<depth {
                minimum = min(minimum, p[base + Self.rowIndex(row, halves: halves, mask: mask, width: width)])
            }
            let (raised, overflow) = minimum.addingReportingOverflow(count)
            let target = overflow ? UInt32.max : raised
            for row in 0..<depth {
                let i = base + Self.rowIndex(row, halves: halves, mask: mask, width: width)
                if p[i] < target { p[i] = target }
            }
        }
    }

    private mutating func rotate(to e: Int64) {
        let size = width * depth
        if e == epoch + 1 {
            // The previous table is reused for the new current epoch.
            currentHalf = 1 - currentHalf
            let base = currentHalf * size
            for i in base..<(base + size) { counters[i] = 0 }
            previousTotal = currentTotal
        } else {
            for i in counters.indices { counters[i] = 0 }
            previousTotal = 0
        }
        currentTotal = 0
        epoch = e
    }

    /// See ``CountMinSketch/estimate(_:at:)``.
    func estimate(_ item: UInt64, at now: EventTime) -> UInt64 {
        guard hasEvents else { return 0 }
        let e = WindowMath.floorDiv(WindowMath.clamp(now.microseconds), epochMicroseconds)
        let h = WindowMath.mix(item)
        let size = width * depth
        var total: UInt64 = 0
        // Which tables are live for an epoch-`e` query: current if e ∈ {epoch, epoch + 1}, previous if
        // e == epoch.
        if e == epoch || e == epoch + 1 {
            total += UInt64(rowMinimum(h, base: currentHalf * size))
        }
        if e == epoch || e == epoch - 1 {
            total += UInt64(rowMinimum(h, base: (1 - currentHalf) * size))
        }
        return total
    }

    @inline(__always)
    private func rowMinimum(_ h: UInt64, base: Int) -> UInt32 {
        var minimum = UInt32.max
        for row in 0..<depth { minimum = min(minimum, counters[base + rowIndex(h, row: row)]) }
        return minimum
    }
}

extension CountMinSketch: ApproximateHeapSize {
    /// 32 + 8 × width × depth bytes.
    public var approximateHeapBytes: Int { arrayHeapBytes(state.counters.count, of: UInt32.self) }
}

extension CountMinSketch {
    /// Checks that each table's row sums never exceed its total (every count lands once per row, and
    /// conservative update only ever adds less). Traps when one fails.
    public func _checkInvariants() {
        let size = state.width * state.depth
        for half in 0..<2 {
            let total = half == state.currentHalf ? state.currentTotal : state.previousTotal
            for row in 0..<state.depth {
                var sum: UInt64 = 0
                for i in 0..<state.width { sum += UInt64(state.counters[half * size + row * state.width + i]) }
                precondition(sum <= total, "CountMinSketch: row \(row) sum \(sum) > total \(total)")
            }
        }
    }
}
