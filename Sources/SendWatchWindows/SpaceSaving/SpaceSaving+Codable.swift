import SendWatchCore

extension SpaceSaving: Codable {
    enum CodingKeys: String, CodingKey {
        case capacity, total, items, counts, errors
    }

    /// Restores a summary saved with ``encode(to:)``: the counters in heap order (as three parallel arrays) and
    /// the total. The item-to-position index is rebuilt.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the capacity is not in 1 ... 2^20, the arrays differ in
    ///   length or exceed the capacity, an item appears twice, an error exceeds its count, the heap order is
    ///   broken, or the counts do not add up to the total.
    /// - Complexity: O(capacity).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let capacity = try c.decode(Int.self, forKey: .capacity)
        let total = try c.decode(UInt64.self, forKey: .total)
        let items = try c.decode([UInt64].self, forKey: .items)
        let counts = try c.decode([UInt64].self, forKey: .counts)
        let errors = try c.decode([UInt64].self, forKey: .errors)
        try StateCheck.require(Self.capacities.contains(capacity), "SpaceSaving: capacity \(capacity)", decoder)
        try StateCheck.require(
            items.count == counts.count && items.count == errors.count && items.count <= capacity,
            "SpaceSaving: \(items.count) items, \(counts.count) counts, \(errors.count) errors", decoder)
        self.init(capacity: capacity)
        var sum: UInt64 = 0
        for i in items.indices {
            let counter = Counter(item: items[i], count: counts[i], error: errors[i])
            try StateCheck.require(counter.error <= counter.count, "SpaceSaving: error above count", decoder)
            try StateCheck.require(
                i == 0 || !Self.less(counter, _heap[(i - 1) / 2]),
                "SpaceSaving: heap order broken at \(i)", decoder)
            try StateCheck.require(
                _position.updateValue(i, forKey: counter.item) == nil,
                "SpaceSaving: item listed twice", decoder)
            _heap.append(counter)
            sum &+= counter.count
        }
        try StateCheck.require(sum == total, "SpaceSaving: counts add up to \(sum), total \(total)", decoder)
        _total = total
    }

    /// Saves the capacity, the total and the counters in heap order.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(_capacity, forKey: .capacity)
        try c.encode(_total, forKey: .total)
        try c.encode(_heap.map(\.item), forKey: .items)
        try c.encode(_heap.map(\.count), forKey: .counts)
        try c.encode(_heap.map(\.error), forKey: .errors)
    }
}
