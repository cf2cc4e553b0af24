extension CountMinSketch: Decodable {
    /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case _counters = "counters"
        case _width = "width"
        case _depth = "depth"
        case _epochMicroseconds = "epochMicroseconds"
        case _currentHalf = "currentHalf"
        case _epoch = "epoch"
        case _currentTotal = "currentTotal"
        case _previousTotal = "previousTotal"
        case _droppedLate = "droppedLate"
        case _hasEvents = "hasEvents"
    }

    /// Restores a sketch saved with ``encode(to:)``: both epoch tables, the size, the epoch and the totals.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the width is not a power of two in 1 ... 2^24, the depth is
    ///   not in 1 ... 16, the counter array is not `2 × width × depth` long, the epoch length or number is out of
    ///   range, or the current half is not 0 or 1.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let counters = try c.decode([UInt32].self, forKey: ._counters)
        let width = try c.decode(Int.self, forKey: ._width)
        let depth = try c.decode(Int.self, forKey: ._depth)
        let epochMicroseconds = try c.decode(Int64.self, forKey: ._epochMicroseconds)
        let currentHalf = try c.decode(Int.self, forKey: ._currentHalf)
        let epoch = try c.decode(Int64.self, forKey: ._epoch)
        try StateCheck.require(
            width >= 1 && width <= 1 << 24 && width & (width - 1) == 0 && (1...16).contains(depth),
            "CountMinSketch: width \(width), depth \(depth)", decoder)
        try StateCheck.require(
            counters.count == 2 * width * depth,
            "CountMinSketch: \(counters.count) counters for \(width) × \(depth)", decoder)
        try StateCheck.require(
            WindowMath.isSpan(epochMicroseconds), "CountMinSketch: epoch length \(epochMicroseconds) µs", decoder)
        try StateCheck.require(currentHalf == 0 || currentHalf == 1, "CountMinSketch: half \(currentHalf)", decoder)
        try StateCheck.require(StateCheck.isPosition(epoch), "CountMinSketch: epoch \(epoch) out of range", decoder)
        _counters = counters
        _width = width
        _depth = depth
        _epochMicroseconds = epochMicroseconds
        _currentHalf = currentHalf
        _epoch = epoch
        _currentTotal = try c.decode(UInt64.self, forKey: ._currentTotal)
        _previousTotal = try c.decode(UInt64.self, forKey: ._previousTotal)
        _droppedLate = try c.decode(UInt64.self, forKey: ._droppedLate)
        _hasEvents = try c.decode(Bool.self, forKey: ._hasEvents)
    }
}
