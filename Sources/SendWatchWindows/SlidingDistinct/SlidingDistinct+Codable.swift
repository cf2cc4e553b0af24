import SendWatchCore

extension SlidingDistinct: Codable {
    enum CodingKeys: String, CodingKey {
        case configuration, items, lastSeen, sketch, head, droppedLate, switchesToSketch, hasEvents
    }

    /// Restores a counter saved with ``encode(to:)``: its configuration, the exact pairs or the sketch, the
    /// newest time and the counters.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the configuration is invalid, the pair arrays differ in
    ///   length or exceed the exact capacity, a time is out of range, a pair was seen after the newest time,
    ///   both pairs and a sketch are present, or the sketch does not match the configuration.
    /// - Complexity: O(items) or O((subBucketCount + 1) × m) (the sketch's union is rebuilt).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let configuration = try c.decode(Configuration.self, forKey: .configuration)
        try StateCheck.require(configuration.isValid, "SlidingDistinct: invalid configuration", decoder)
        let items = try c.decode([UInt64].self, forKey: .items)
        let lastSeen = try c.decode([Int64].self, forKey: .lastSeen)
        let sketch = try c.decodeIfPresent(SubBucketSketch.self, forKey: .sketch)
        let head = try c.decode(Int64.self, forKey: .head)
        try StateCheck.require(
            items.count == lastSeen.count && items.count <= configuration.exactCapacity,
            "SlidingDistinct: \(items.count) items, \(lastSeen.count) times", decoder)
        try StateCheck.require(
            lastSeen.allSatisfy(StateCheck.isTime) && StateCheck.isTime(head),
            "SlidingDistinct: time out of range", decoder)
        // Every pair was seen at or before the newest event: the answers that skip the scan when every pair is
        // live (``SlidingDistinct/value(at:)`` at or after the head) rely on it.
        try StateCheck.require(
            lastSeen.allSatisfy { $0 <= head }, "SlidingDistinct: a pair seen after the newest event", decoder)
        if let s = sketch {
            try StateCheck.require(items.isEmpty, "SlidingDistinct: pairs kept in sketch mode", decoder)
            try StateCheck.require(
                s.precision == configuration.precision && s.subBucketCount == Int64(configuration.subBucketCount)
                    && s.subBucketWidth == configuration.horizonMicroseconds / Int64(configuration.subBucketCount),
                "SlidingDistinct: sketch does not match the configuration", decoder)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(items.count)
        for i in items.indices { entries.append(Entry(item: items[i], lastSeen: lastSeen[i])) }
        _horizon = configuration.horizonMicroseconds
        _exactCapacity = UInt16(configuration.exactCapacity)
        _subBucketCount = UInt8(configuration.subBucketCount)
        _precision = UInt8(configuration.precision)
        _head = head
        if let sketch {
            _storage = .sketch(SketchBox(sketch))
        } else {
            _storage = .exact(entries)
        }
        _droppedLate = try c.decode(UInt32.self, forKey: .droppedLate)
        _switchesToSketch = try c.decode(UInt16.self, forKey: .switchesToSketch)
        _hasEvents = try c.decode(Bool.self, forKey: .hasEvents)
    }

    /// Saves the configuration and the whole state; exact pairs as two parallel integer arrays.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(configuration, forKey: .configuration)
        try c.encode(withExactEntries { $0.map(\.item) } ?? [], forKey: .items)
        try c.encode(withExactEntries { $0.map(\.lastSeen) } ?? [], forKey: .lastSeen)
        var sketch: SubBucketSketch? = nil
        if case .sketch(let box) = _storage { sketch = box.sketch }
        try c.encodeIfPresent(sketch, forKey: .sketch)
        try c.encode(_head, forKey: .head)
        try c.encode(_droppedLate, forKey: .droppedLate)
        try c.encode(_switchesToSketch, forKey: .switchesToSketch)
        try c.encode(_hasEvents, forKey: .hasEvents)
    }
}

extension SubBucketSketch: Decodable {
    /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case registers, precision, subBucketCount, subBucketWidth, head
    }

    /// Restores the sub-bucket registers; the union registers, their histogram and the cached estimate are
    /// rebuilt from them (they are derived state, equal to what was saved whenever the saved state was sound).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var registers = try c.decode([UInt8].self, forKey: .registers)
        let precision = try c.decode(Int.self, forKey: .precision)
        let count = try c.decode(Int64.self, forKey: .subBucketCount)
        let width = try c.decode(Int64.self, forKey: .subBucketWidth)
        let head = try c.decode(Int64.self, forKey: .head)
        try StateCheck.require(
            (4...16).contains(precision) && (1...64).contains(count),
            "SubBucketSketch: precision \(precision), \(count) sub-buckets", decoder)
        try StateCheck.require(
            registers.count == (Int(count) + 1) << precision,
            "SubBucketSketch: \(registers.count) registers", decoder)
        try StateCheck.require(
            WindowMath.isSpan(width) && StateCheck.isPosition(head),
            "SubBucketSketch: width \(width) or head \(head) out of range", decoder)
        let maxRank = UInt8(65 - precision)
        try StateCheck.require(
            registers.allSatisfy { $0 <= maxRank }, "SubBucketSketch: rank above \(maxRank)", decoder)
        self.init(precision: precision, subBucketCount: Int(count), subBucketWidth: width, head: head)
        swap(&self.registers, &registers)
        rebuildUnion()
        refreshCache()
    }
}
