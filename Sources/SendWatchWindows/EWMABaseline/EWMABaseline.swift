public import SendWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An event-time baseline of a per-interval rate: the exponentially weighted mean and variance of the counts
/// of past intervals (for example young accounts per hour for one template).
///
/// Counts are collected per interval of ``Configuration/intervalMicroseconds``. When the event-time
/// watermark (`newest event - allowedLateness`) passes the end of an interval, its count `x` is folded in:
///
///     diff = x - mean;  mean += α diff;  variance = (1 - α)(variance + α diff²)
///
/// with `α = 1 - 2^(-1 / halfLifeIntervals)`, so an interval's weight halves every `halfLifeIntervals`
/// intervals. The first completed interval seeds the mean (variance 0). Intervals without events are folded
/// as zeros, in closed form for any gap: with `β = 1 - α` and `k` empty intervals,
/// `mean ← β^k mean` and `variance ← β^k (variance + mean² (1 - β^k))`, so a jump of days or years costs O(1)
/// and gives the same result, to rounding, as folding the zeros one by one.
///
/// Warm-up: ``Snapshot/isWarm`` is false until ``Configuration/warmUpIntervals`` intervals (including empty
/// ones after the first event) have completed; a detector should not compare against a cold baseline.
///
/// Late events: two intervals are open at a time, so an event up to ``Configuration/allowedLatenessMicroseconds``
/// (at most one interval) behind the newest event is still counted in its own interval; an event in an
/// already folded interval is dropped and counted in ``droppedLate``.
///
/// Memory: 96 bytes inline (stride), no heap. Counts per interval saturate at `UInt32.max`.
///
/// Usage:
/// ```swift
/// var youngPerHour = EWMABaseline(configuration: .init(intervalMicroseconds: 3_600_000_000))
/// youngPerHour.add(at: event.time)
/// let s = youngPerHour.snapshot(at: event.time)   // "observed 42 vs baseline 1.3 ± 0.9"
/// ```
public struct EWMABaseline: Sendable {
    /// Interval, half-life, warm-up and lateness of a baseline.
    public struct Configuration: Sendable, Hashable, Codable {
        /// The interval whose counts are averaged, in microseconds. Default 1 hour.
        public var intervalMicroseconds: Int64
        /// Intervals after which a past interval's weight halves. Default 24 (a day of hours).
        public var halfLifeIntervals: Double
        /// Completed intervals before the baseline is warm. Default 6.
        public var warmUpIntervals: Int
        /// How far behind the newest event an event may be and still count; at most one interval. Default 0.
        public var allowedLatenessMicroseconds: Int64

        public init(
            intervalMicroseconds: Int64 = 3_600_000_000, halfLifeIntervals: Double = 24,
            warmUpIntervals: Int = 6, allowedLatenessMicroseconds: Int64 = 0
        ) {
            self.intervalMicroseconds = intervalMicroseconds
            self.halfLifeIntervals = halfLifeIntervals
            self.warmUpIntervals = warmUpIntervals
            self.allowedLatenessMicroseconds = allowedLatenessMicroseconds
        }

        /// Whether every field is in range.
        public var isValid: Bool {
            WindowMath.isSpan(intervalMicroseconds)
                && halfLifeIntervals > 0 && halfLifeIntervals.isFinite && warmUpIntervals >= 0
                && allowedLatenessMicroseconds >= 0 && allowedLatenessMicroseconds <= intervalMicroseconds
        }
    }

    /// The baseline as of some event time.
    public struct Snapshot: Sendable, Hashable {
        /// The exponentially weighted mean count per interval.
        public var mean: Double
        /// The exponentially weighted variance of the count per interval.
        public var variance: Double
        /// Intervals folded in so far (saturates at `UInt32.max`).
        public var completedIntervals: UInt32
        /// Whether at least `warmUpIntervals` intervals have completed.
        public var isWarm: Bool
        /// The count of the (open) interval holding the snapshot time.
        public var currentIntervalCount: UInt32

        /// √variance.
        public var standardDeviation: Double { variance.squareRoot() }

        /// How many standard deviations `observed` lies above the mean, with the deviation floored at
        /// `minimumDeviation` so a perfectly flat history does not give infinity; `nil` while cold.
        public func zScore(_ observed: Double, minimumDeviation: Double = 1) -> Double? {
            guard isWarm else { return nil }
            return (observed - mean) / max(standardDeviation, minimumDeviation)
        }
    }

    /// The baseline's saved fields, in the order a checkpoint saves them (synthesized `Codable`; ``init(from:)``
    /// checks them).
    struct State: Sendable, Codable {
        let configuration: Configuration
        var mean: Double
        var variance: Double
        var completed: UInt32
        /// Interval number of the older open interval; `open0` counts it, `open1` the next one.
        var firstOpen: Int64
        var open0: UInt32
        var open1: UInt32
        var head: Int64
        var droppedLate: UInt32
        var hasEvents: Bool
        var seeded: Bool
    }

    var state: State
    /// `1 - α`, derived from the configuration (not saved).
    let _beta: Double

    /// Creates an empty baseline.
    ///
    /// - Precondition: `configuration.isValid` (configuration, never input).
    public init(configuration: Configuration = .init()) {
        precondition(configuration.isValid, "invalid EWMABaseline configuration")
        state = State(
            configuration: configuration, mean: 0, variance: 0, completed: 0, firstOpen: 0, open0: 0, open1: 0,
            head: 0, droppedLate: 0, hasEvents: false, seeded: false)
        _beta = exp2(-1 / configuration.halfLifeIntervals)
    }

    /// The configuration.
    public var configuration: Configuration { state.configuration }
    /// The smoothing factor `α = 1 - 2^(-1 / halfLifeIntervals)`.
    public var alpha: Double { 1 - _beta }
    /// Events in intervals already folded in, dropped.
    public var droppedLate: UInt32 { state.droppedLate }

    /// Counts `amount` events at `time`.
    ///
    /// - Complexity: O(1) (gaps are folded in closed form). No allocation.
    public mutating func add(_ amount: UInt32 = 1, at time: EventTime) {
        let t = WindowMath.clamp(time.microseconds)
        let interval = WindowMath.floorDiv(t, state.configuration.intervalMicroseconds)
        if !state.hasEvents {
            state.hasEvents = true
            state.head = t
            state.firstOpen = interval
        }
        if t > state.head { state.head = t }
        advanceWatermark(to: state.head - state.configuration.allowedLatenessMicroseconds)
        if interval == state.firstOpen {
            state.open0 = saturatingAdd(state.open0, amount)
        } else if interval == state.firstOpen + 1 {
            state.open1 = saturatingAdd(state.open1, amount)
        } else if interval < state.firstOpen {
            state.droppedLate = state.droppedLate == .max ? .max : state.droppedLate &+ 1
        } else {
            // Only reachable when the lateness is smaller than the distance between the watermark and head:
            // the watermark has already moved `state.firstOpen` to the interval before head's, so `interval` is
            // `state.firstOpen + 1` or `state.firstOpen`. Kept for safety with absurd times.
            advanceWatermark(to: (interval - 1) &* state.configuration.intervalMicroseconds)
            state.open1 = saturatingAdd(state.open1, amount)
        }
    }

    private func saturatingAdd(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? .max : s
    }

    /// Folds every open interval that ends at or before `watermark`.
    mutating func advanceWatermark(to watermark: Int64) {
        // Intervals numbered below `closeBelow` end at or before the watermark.
        let closeBelow = WindowMath.floorDiv(watermark, state.configuration.intervalMicroseconds)
        guard closeBelow > state.firstOpen else { return }
        fold(Double(state.open0))
        state.firstOpen += 1
        state.open0 = state.open1
        state.open1 = 0
        guard closeBelow > state.firstOpen else { return }
        fold(Double(state.open0))
        state.firstOpen += 1
        state.open0 = 0
        // Everything from `state.firstOpen` up to `closeBelow - 1` was empty.
        if let k = WindowMath.distance(from: state.firstOpen, to: closeBelow), k > 0 {
            foldZeros(k)
            state.firstOpen = closeBelow
        }
    }

    private mutating func fold(_ x: Double) {
        bumpCompleted(1)
        if !state.seeded {
            state.seeded = true
            state.mean = x
            state.variance = 0
            return
        }
        let diff = x - state.mean
        state.mean += (1 - _beta) * diff
        state.variance = _beta * (state.variance + (1 - _beta) * diff * diff)
    }

    private mutating func foldZeros(_ k: Int64) {
        bumpCompleted(k)
        let bk = pow(_beta, Double(k))
        state.variance = bk * (state.variance + state.mean * state.mean * (1 - bk))
        state.mean *= bk
    }

    private mutating func bumpCompleted(_ k: Int64) {
        let total = Int64(state.completed) + min(k, Int64(UInt32.max))
        state.completed = UInt32(min(total, Int64(UInt32.max)))
    }

    /// The baseline as of `now`: intervals that ended by `now - allowedLateness` are folded in first.
    ///
    /// - Complexity: O(1). No allocation.
    public func snapshot(at now: EventTime) -> Snapshot {
        var copy = self
        if copy.state.hasEvents {
            let end = max(WindowMath.clamp(now.microseconds), copy.state.head)
            copy.advanceWatermark(to: end - copy.state.configuration.allowedLatenessMicroseconds)
        }
        let nowInterval = WindowMath.floorDiv(
            WindowMath.clamp(now.microseconds), state.configuration.intervalMicroseconds)
        let current: UInt32
        if !copy.state.hasEvents {
            current = 0
        } else if nowInterval == copy.state.firstOpen {
            current = copy.state.open0
        } else if nowInterval == copy.state.firstOpen + 1 {
            current = copy.state.open1
        } else {
            current = 0
        }
        return Snapshot(
            mean: copy.state.mean, variance: copy.state.variance, completedIntervals: copy.state.completed,
            isWarm: copy.state.completed >= UInt32(clamping: state.configuration.warmUpIntervals),
            currentIntervalCount: current)
    }
}

extension EWMABaseline: ApproximateHeapSize {
    /// 0: all state is inline.
    public var approximateHeapBytes: Int { 0 }
}

extension EWMABaseline {
    /// Checks that the statistics are finite and the variance is not negative. Traps when one fails.
    public func _checkInvariants() {
        precondition(state.mean.isFinite && state.mean >= 0, "EWMABaseline: mean \(state.mean)")
        precondition(state.variance.isFinite && state.variance >= 0, "EWMABaseline: variance \(state.variance)")
        precondition(state.seeded || state.completed == 0, "EWMABaseline: completed without seed")
    }
}
