import SendWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EWMABaseline: Codable {
    /// Restores a baseline saved with ``encode(to:)``: its configuration, statistics, open intervals and newest
    /// time. The smoothing factor is recomputed from the configuration.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the configuration is invalid, the mean or variance is
    ///   negative or not finite, an interval number or time is out of range, or intervals were completed
    ///   without a seed.
    public init(from decoder: any Decoder) throws {
        let s = try State(from: decoder)
        try StateCheck.require(s.configuration.isValid, "EWMABaseline: invalid configuration", decoder)
        try StateCheck.require(
            s.mean.isFinite && s.mean >= 0 && s.variance.isFinite && s.variance >= 0,
            "EWMABaseline: mean \(s.mean), variance \(s.variance)", decoder)
        try StateCheck.require(
            StateCheck.isPosition(s.firstOpen) && StateCheck.isPosition(s.head),
            "EWMABaseline: interval \(s.firstOpen) or head \(s.head) out of range", decoder)
        try StateCheck.require(
            s.seeded || s.completed == 0, "EWMABaseline: completed intervals without a seed", decoder)
        state = s
        _beta = exp2(-1 / s.configuration.halfLifeIntervals)
    }

    /// Saves the fields of ``State`` in their order: the configuration, the statistics, the open intervals, the
    /// newest time and the count of late events dropped (not the smoothing factor, derived from the
    /// configuration).
    public func encode(to encoder: any Encoder) throws { try state.encode(to: encoder) }
}
