extension CountMinSketch: Codable {
    enum CodingKeys: String, CodingKey {
        case counters, width, depth, epochMicroseconds, currentHalf, epoch, currentTotal, previousTotal, droppedLate
        case hasEvents
    }

    /// Restores a sketch saved with ``encode(to:)``: both epoch tables, the size, the epoch and the totals.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the width is not a power of two in 1 ... 2^24, the depth is
    ///   not in 1 ... 16, the counter array is not `2 × width × depth` long, the epoch length or number is out of
    ///   range, or the current half is not 0 or 1.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let counters = try c.decode([UInt32].self, forKey: .counters)
        let width = try c.decode(Int.self, forKey: .width)
        let depth = try c.decode(Int.self, forKey: .depth)
        let epochMicroseconds = try c.decode(Int64.self, forKey: .epochMicroseconds)
        let currentHalf = try c.decode(Int.self, forKey: .currentHalf)
        let epoch = try c.decode(Int64.self, forKey: .epoch)
        try StateCheck.require(width >= 1 && width <= 1 << 24 && width & (width - 1) == 0 && (1...16).contains(depth),
                               "CountMinSketch: width \(width), depth \(depth)", decoder)
        try StateCheck.require(counters.count == 2 * width * depth,
                               "CountMinSketch: \(counters.count) counters for \(width) × \(depth)", decoder)
        try StateCheck.require(epochMicroseconds > 0 && epochMicroseconds <= WindowMath.maxSpanMicroseconds,
                               "CountMinSketch: epoch length \(epochMicroseconds) µs", decoder)
        try StateCheck.require(currentHalf == 0 || currentHalf == 1, "CountMinSketch: half \(currentHalf)", decoder)
        try StateCheck.require(StateCheck.isPosition(epoch), "CountMinSketch: epoch \(epoch) out of range", decoder)
        _counters = counters
        _width = width
        _depth = depth
        _epochMicroseconds = epochMicroseconds
        _currentHalf = currentHalf
        _epoch = epoch
        _currentTotal = try c.decode(UInt64.self, forKey: .currentTotal)
        _previousTotal = try c.decode(UInt64.self, forKey: .previousTotal)
        _droppedLate = try c.decode(UInt64.self, forKey: .droppedLate)
        _hasEvents = try c.decode(Bool.self, forKey: .hasEvents)
    }

    /// Saves the size, both tables and the epoch state.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(_counters, forKey: .counters)
        try c.encode(_width, forKey: .width)
        try c.encode(_depth, forKey: .depth)
        try c.encode(_epochMicroseconds, forKey: .epochMicroseconds)
        try c.encode(_currentHalf, forKey: .currentHalf)
        try c.encode(_epoch, forKey: .epoch)
        try c.encode(_currentTotal, forKey: .currentTotal)
        try c.encode(_previousTotal, forKey: .previousTotal)
        try c.encode(_droppedLate, forKey: .droppedLate)
        try c.encode(_hasEvents, forKey: .hasEvents)
    }
}
