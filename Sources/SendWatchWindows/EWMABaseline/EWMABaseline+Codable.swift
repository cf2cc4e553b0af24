#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EWMABaseline: Codable {
    enum CodingKeys: String, CodingKey {
        case configuration, mean, variance, completed, firstOpen, open0, open1, head, droppedLate, hasEvents, seeded
    }

    /// Restores a baseline saved with ``encode(to:)``: its configuration, statistics, open intervals and newest
    /// time. The smoothing factor is recomputed from the configuration.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the configuration is invalid, the mean or variance is
    ///   negative or not finite, an interval number or time is out of range, or intervals were completed
    ///   without a seed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: .configuration)
        let mean = try c.decode(Double.self, forKey: .mean)
        let variance = try c.decode(Double.self, forKey: .variance)
        let completed = try c.decode(UInt32.self, forKey: .completed)
        let firstOpen = try c.decode(Int64.self, forKey: .firstOpen)
        let open0 = try c.decode(UInt32.self, forKey: .open0)
        let open1 = try c.decode(UInt32.self, forKey: .open1)
        let head = try c.decode(Int64.self, forKey: .head)
        let droppedLate = try c.decode(UInt32.self, forKey: .droppedLate)
        let hasEvents = try c.decode(Bool.self, forKey: .hasEvents)
        let seeded = try c.decode(Bool.self, forKey: .seeded)
        try StateCheck.require(configuration.isValid, "EWMABaseline: invalid configuration", decoder)
        try StateCheck.require(mean.isFinite && mean >= 0 && variance.isFinite && variance >= 0,
                               "EWMABaseline: mean \(mean), variance \(variance)", decoder)
        try StateCheck.require(StateCheck.isPosition(firstOpen) && StateCheck.isPosition(head),
                               "EWMABaseline: interval \(firstOpen) or head \(head) out of range", decoder)
        try StateCheck.require(seeded || completed == 0, "EWMABaseline: completed intervals without a seed", decoder)
        _configuration = configuration
        _beta = exp2(-1 / configuration.halfLifeIntervals)
        _mean = mean
        _variance = variance
        _completed = completed
        _firstOpen = firstOpen
        _open0 = open0
        _open1 = open1
        _head = head
        _droppedLate = droppedLate
        _hasEvents = hasEvents
        _seeded = seeded
    }

    /// Saves the configuration and the whole state.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(_configuration, forKey: .configuration)
        try c.encode(_mean, forKey: .mean)
        try c.encode(_variance, forKey: .variance)
        try c.encode(_completed, forKey: .completed)
        try c.encode(_firstOpen, forKey: .firstOpen)
        try c.encode(_open0, forKey: .open0)
        try c.encode(_open1, forKey: .open1)
        try c.encode(_head, forKey: .head)
        try c.encode(_droppedLate, forKey: .droppedLate)
        try c.encode(_hasEvents, forKey: .hasEvents)
        try c.encode(_seeded, forKey: .seeded)
    }
}
