extension Int {
    /// The least power of two at or above `value`: 1 when `value <= 1`, 2^62 when `value` is larger than that.
    ///
    /// For the sizes of tables and arrays that a hash picks a position in with a mask (the windows' filters and
    /// sketches, the account table, the parsers' string cache), and for the capacity an array reaches by doubling.
    ///
    /// - Complexity: O(1).
    @inlinable
    package static func powerOfTwo(atLeast value: Int) -> Int {
        if value <= 1 { return 1 }
        if value >= 1 << 62 { return 1 << 62 }
        return 1 << (Int.bitWidth - (value - 1).leadingZeroBitCount)
    }
}
