/// Small integer helpers shared by the windows: floor division, ring positions and a fixed 64-bit mixer.
///
/// Everything here is deterministic across processes and machines (no `Hasher`, no random seeds), so replaying
/// the same input gives the same sketches, the same estimates and the same output order.
enum WindowMath {
    /// `value / divisor` rounded towards negative infinity, without overflow for any `value`.
    ///
    /// - Precondition: `divisor > 0` (a configuration value, never input bytes).
    @inline(__always)
    static func floorDiv(_ value: Int64, _ divisor: Int64) -> Int64 {
        let q = value / divisor
        return (value % divisor != 0 && value < 0) ? q - 1 : q
    }

    /// The non-negative residue of `value` modulo `count`.
    @inline(__always)
    static func ringIndex(_ value: Int64, _ count: Int64) -> Int {
        let r = value % count
        return Int(r < 0 ? r + count : r)
    }

    /// The largest configured horizon, interval or epoch: 2^50 µs (about 35 years).
    static let maxSpanMicroseconds: Int64 = 1 << 50

    /// Whether `microseconds` is a span a window can be configured with (a horizon, interval, epoch or bucket
    /// width): 1 µs to ``maxSpanMicroseconds``.
    @inline(__always)
    static func isSpan(_ microseconds: Int64) -> Bool { microseconds >= 1 && microseconds <= maxSpanMicroseconds }

    /// Event times are clamped to ±2^60 µs (about ±36 000 years) on entry, so that bucket arithmetic with
    /// spans up to ``maxSpanMicroseconds`` can never overflow, whatever time a damaged log line carries.
    @inline(__always)
    static func clamp(_ t: Int64) -> Int64 {
        let limit: Int64 = 1 << 60
        return t < -limit ? -limit : (t > limit ? limit : t)
    }

    /// `later - earlier`, or `nil` when the difference does not fit in an `Int64` (only with absurd times).
    @inline(__always)
    static func distance(from earlier: Int64, to later: Int64) -> Int64? {
        let (d, overflow) = later.subtractingReportingOverflow(earlier)
        return overflow ? nil : d
    }

    /// A fixed 64-bit finaliser (the MurmurHash3 `fmix64` constants) that spreads the bits of a caller's hash.
    ///
    /// The structures take 64-bit item hashes from the caller (for example FNV-1a of an address). FNV-style
    /// hashes have weak high bits for short inputs, and HyperLogLog and Count-Min read the high and low bits
    /// directly, so every item is mixed once on entry. The function is a bijection, so distinct hashes stay
    /// distinct.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }

    /// Whole microseconds in a `Duration`, saturating at `Int64.max` and rounding sub-microsecond parts down.
    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        return overflow2 ? Int64.max : sum
    }
}
