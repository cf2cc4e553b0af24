import SendWatchCore

extension MemoryBudget: Codable {
    enum CodingKeys: String, CodingKey {
        case totalBytes, names, bytes
    }

    /// Restores the budget and the recorded figures, in first-recorded order.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the names and figures differ in number, there are more than
    ///   4 096 components, or a figure is out of range.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let total = try c.decode(Int64.self, forKey: .totalBytes)
        let names = try c.decode([String].self, forKey: .names)
        let bytes = try c.decode([Int64].self, forKey: .bytes)
        try StateCheck.require(
            names.count == bytes.count && names.count <= 4096,
            "MemoryBudget: \(names.count) names, \(bytes.count) figures", decoder)
        try StateCheck.require(
            StateCheck.isCount(total) && bytes.allSatisfy { abs($0) <= StateCheck.maxCount / 4096 },
            "MemoryBudget: figure out of range", decoder)
        self.init(totalBytes: Int(total))
        _components = zip(names, bytes).map { ($0, Int($1)) }
    }

    /// Saves the budget and the recorded figures.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Int64(totalBytes), forKey: .totalBytes)
        try c.encode(_components.map(\.name), forKey: .names)
        try c.encode(_components.map { Int64($0.bytes) }, forKey: .bytes)
    }
}
