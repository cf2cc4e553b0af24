extension HyperLogLog {
    /// Checks that the register count matches the precision and no register exceeds the largest rank.
    public func _checkInvariants() {
        precondition(_registers.count == 1 << Int(_precision), "HyperLogLog: register count")
        let maxRank = UInt8(65 - Int(_precision))
        for r in _registers { precondition(r <= maxRank, "HyperLogLog: rank \(r) > \(maxRank)") }
    }
}
