extension Array {
    /// Stores `element` in the slot freed last (the last number of `free`, taken off it) or, when none is free, in
    /// a new slot at the end: the slot reuse of the bounded tables that keep their entries in one array with a free
    /// list (the parsers' `RecencyTable`, the template miner's templates). The caller grows its arrays parallel to
    /// this one (recency links, counts) when `appended` is true.
    ///
    /// - Precondition: every number in `free` is a slot of this array.
    /// - Returns: the slot number, and whether it is a new one at the end.
    /// - Complexity: O(1) amortised.
    @inlinable
    public mutating func storeInFreeSlot(_ element: consuming Element, free: inout [Int32]) -> (
        slot: Int32, appended: Bool
    ) {
        if let s = free.popLast() {
            self[Int(s)] = element
            return (s, false)
        }
        append(element)
        return (Int32(count - 1), true)
    }
}
