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
public struct EWMABaseline: Sendable, Encodable {
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

    let _configuration: Configuration
    let _beta: Double
    var _mean: Double
    var _variance: Double
    var _completed: UInt32
    /// Interval number of the older open interval; `_open0` counts it, `_open1` the next one.
    var _firstOpen: Int64
    var _open0: UInt32
    var _open1: UInt32
    var _head: Int64
    var _droppedLate: UInt32
    var _hasEvents: Bool
    var _seeded: Bool

    /// Creates an empty baseline.
    ///
    /// - Precondition: `configuration.isValid` (configuration, never input).
    public init(configuration: Configuration = .init()) {
        precondition(configuration.isValid, "invalid EWMABaseline configuration")
        _configuration = configuration
        _beta = exp2(-1 / configuration.halfLifeIntervals)
        _mean = 0
        _variance = 0
        _completed = 0
        _firstOpen = 0
        _open0 = 0
        _open1 = 0
        _head = 0
        _droppedLate = 0
        _hasEvents = false
        _seeded = false
    }

    /// The configuration.
    public var configuration: Configuration { _configuration }
    /// The smoothing factor `α = 1 - 2^(-1 / halfLifeIntervals)`.
    public var alpha: Double { 1 - _beta }
    /// Events in intervals already folded in, dropped.
    public var droppedLate: UInt32 { _droppedLate }

    /// Counts `amount` events at `time`.
    ///
    /// - Complexity: O(1) (gaps are folded in closed form). No allocation.
    public mutating func add(_ amount: UInt32 = 1, at time: EventTime) {
        let t = WindowMath.clamp(time.microseconds)
        let interval = WindowMath.floorDiv(t, _configuration.intervalMicroseconds)
        if !_hasEvents {
            _hasEvents = true
            _head = t
            _firstOpen = interval
        }
        if t > _head { _head = t }
        advanceWatermark(to: _head - _configuration.allowedLatenessMicroseconds)
        if interval == _firstOpen {
            _open0 = saturatingAdd(_open0, amount)
        } else if interval == _firstOpen + 1 {
            _open1 = saturatingAdd(_open1, amount)
        } else if interval < _firstOpen {
            _droppedLate = _droppedLate == .max ? .max : _droppedLate &+ 1
        } else {
            // Only reachable when the lateness is smaller than the distance between the watermark and head:
            // the watermark has already moved `_firstOpen` to the interval before head's, so `interval` is
            // `_firstOpen + 1` or `_firstOpen`. Kept for safety with absurd times.
            advanceWatermark(to: (interval - 1) &* _configuration.intervalMicroseconds)
            _open1 = saturatingAdd(_open1, amount)
        }
    }

    private func saturatingAdd(_ a: UInt32, _ b: UInt32) -> UInt32 {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? .max : s
    }

    /// Folds every open interval that ends at or before `watermark`.
    mutating func advanceWatermark(to watermark: Int64) {
        // Intervals numbered below `closeBelow` end at or before the watermark.
        let closeBelow = WindowMath.floorDiv(watermark, _configuration.intervalMicroseconds)
        guard closeBelow > _firstOpen else { return }
        fold(Double(_open0))
        _firstOpen += 1
        _open0 = _open1
        _open1 = 0
        guard closeBelow > _firstOpen else { return }
        fold(Double(_open0))
        _firstOpen += 1
        _open0 = 0
        // Everything from `_firstOpen` up to `closeBelow - 1` was empty.
        if let k = WindowMath.distance(from: _firstOpen, to: closeBelow), k > 0 {
            foldZeros(k)
            _firstOpen = closeBelow
        }
    }

    private mutating func fold(_ x: Double) {
        bumpCompleted(1)
        if !_seeded {
            _seeded = true
            _mean = x
            _variance = 0
            return
        }
        let diff = x - _mean
        _mean += (1 - _beta) * diff
        _variance = _beta * (_variance + (1 - _beta) * diff * diff)
    }

    private mutating func foldZeros(_ k: Int64) {
        bumpCompleted(k)
        let bk = pow(_beta, Double(k))
        _variance = bk * (_variance + _mean * _mean * (1 - bk))
        _mean *= bk
    }

    private mutating func bumpCompleted(_ k: Int64) {
        let total = Int64(_completed) + min(k, Int64(UInt32.max))
        _completed = UInt32(min(total, Int64(UInt32.max)))
    }

    /// The baseline as of `now`: intervals that ended by `now - allowedLateness` are folded in first.
    ///
    /// - Complexity: O(1). No allocation.
    public func snapshot(at now: EventTime) -> Snapshot {
        var copy = self
        if copy._hasEvents {
            let end = max(WindowMath.clamp(now.microseconds), copy._head)
            copy.advanceWatermark(to: end - copy._configuration.allowedLatenessMicroseconds)
        }
        let nowInterval = WindowMath.floorDiv(WindowMath.clamp(now.microseconds), _configuration.intervalMicroseconds)
        let current: UInt32
        if !copy._hasEvents {
            current = 0
        } else if nowInterval == copy._firstOpen {
            current = copy._open0
        } else if nowInterval == copy._firstOpen + 1 {
            current = copy._open1
        } else {
            current = 0
        }
        return Snapshot(
            mean: copy._mean, variance: copy._variance, completedIntervals: copy._completed,
            isWarm: copy._completed >= UInt32(clamping: _configuration.warmUpIntervals),
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
        precondition(_mean.isFinite && _mean >= 0, "EWMABaseline: mean \(_mean)")
        precondition(_variance.isFinite && _variance >= 0, "EWMABaseline: variance \(_variance)")
        precondition(_seeded || _completed == 0, "EWMABaseline: completed without seed")
    }
}
