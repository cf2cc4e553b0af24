import SendWatchCore

extension CountMinSketch {
    /// Whether a sketch can have `width` counters per row and `depth` rows: the width a power of two in
    /// 1 ... 2^24, the depth in 1 ... 16. What ``init(width:depth:epochMicroseconds:)`` makes and a checkpoint
    /// must hold.
    static func isSize(width: Int, depth: Int) -> Bool {
        width >= 1 && width <= 1 << 24 && width & (width - 1) == 0 && (1...16).contains(depth)
    }
}

extension CountMinSketch: Codable {
    /// Restores a sketch saved with ``encode(to:)``: both epoch tables, the size, the epoch and the totals.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the width is not a power of two in 1 ... 2^24, the depth is
    ///   not in 1 ... 16, the counter array is not `2 × width × depth` long, the epoch length or number is out of
    ///   range, or the current half is not 0 or 1.
    public init(from decoder: any Decoder) throws {
        let s = try State(from: decoder)
        try StateCheck.require(
            CountMinSketch.isSize(width: s.width, depth: s.depth),
            "CountMinSketch: width \(s.width), depth \(s.depth)", decoder)
        try StateCheck.require(
            s.counters.count == 2 * s.width * s.depth,
            "CountMinSketch: \(s.counters.count) counters for \(s.width) × \(s.depth)", decoder)
        try StateCheck.require(
            WindowMath.isSpan(s.epochMicroseconds), "CountMinSketch: epoch length \(s.epochMicroseconds) µs",
            decoder)
        try StateCheck.require(
            s.currentHalf == 0 || s.currentHalf == 1, "CountMinSketch: half \(s.currentHalf)", decoder)
        try StateCheck.require(StateCheck.isPosition(s.epoch), "CountMinSketch: epoch \(s.epoch) out of range", decoder)
        state = s
    }

    /// Saves the fields of ``State`` in their order, as they are: both epoch tables, the size, the epoch, the
    /// totals and the count of late events dropped.
    public func encode(to encoder: any Encoder) throws { try state.encode(to: encoder) }
}
