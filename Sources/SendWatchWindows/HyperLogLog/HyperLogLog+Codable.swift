import SendWatchCore

extension HyperLogLog: Codable {
    enum CodingKeys: String, CodingKey {
        case precision, registers
    }

    /// Restores a sketch saved with ``encode(to:)``.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the precision is outside ``precisionRange``, the register
    ///   count is not `2^precision`, or a register exceeds the largest rank `65 - precision`.
    /// - Complexity: O(m).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let precision = try c.decode(Int.self, forKey: .precision)
        let registers = try c.decode([UInt8].self, forKey: .registers)
        try StateCheck.require(
            Self.precisionRange.contains(precision) && registers.count == 1 << precision,
            "HyperLogLog: precision \(precision) with \(registers.count) registers", decoder)
        let maxRank = UInt8(65 - precision)
        try StateCheck.require(registers.allSatisfy { $0 <= maxRank }, "HyperLogLog: rank above \(maxRank)", decoder)
        _precision = UInt8(precision)
        _registers = registers
    }

    /// Saves the precision and the registers.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(precision, forKey: .precision)
        try c.encode(_registers, forKey: .registers)
    }
}
