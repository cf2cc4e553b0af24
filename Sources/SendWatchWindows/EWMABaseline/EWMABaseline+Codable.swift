#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EWMABaseline: Decodable {
    /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case _configuration = "configuration"
        case _mean = "mean"
        case _variance = "variance"
        case _completed = "completed"
        case _firstOpen = "firstOpen"
        case _open0 = "open0"
        case _open1 = "open1"
        case _head = "head"
        case _droppedLate = "droppedLate"
        case _hasEvents = "hasEvents"
        case _seeded = "seeded"
    }

    /// Restores a baseline saved with ``encode(to:)``: its configuration, statistics, open intervals and newest
    /// time. The smoothing factor is recomputed from the configuration.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the configuration is invalid, the mean or variance is
    ///   negative or not finite, an interval number or time is out of range, or intervals were completed
    ///   without a seed.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: ._configuration)
        let mean = try c.decode(Double.self, forKey: ._mean)
        let variance = try c.decode(Double.self, forKey: ._variance)
        let completed = try c.decode(UInt32.self, forKey: ._completed)
        let firstOpen = try c.decode(Int64.self, forKey: ._firstOpen)
        let open0 = try c.decode(UInt32.self, forKey: ._open0)
        let open1 = try c.decode(UInt32.self, forKey: ._open1)
        let head = try c.decode(Int64.self, forKey: ._head)
        let droppedLate = try c.decode(UInt32.self, forKey: ._droppedLate)
        let hasEvents = try c.decode(Bool.self, forKey: ._hasEvents)
        let seeded = try c.decode(Bool.self, forKey: ._seeded)
        try StateCheck.require(configuration.isValid, "EWMABaseline: invalid configuration", decoder)
        try StateCheck.require(
            mean.isFinite && mean >= 0 && variance.isFinite && variance >= 0,
            "EWMABaseline: mean \(mean), variance \(variance)", decoder)
        try StateCheck.require(
            StateCheck.isPosition(firstOpen) && StateCheck.isPosition(head),
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
}
