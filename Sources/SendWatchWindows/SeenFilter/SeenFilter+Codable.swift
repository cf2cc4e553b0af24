import SendWatchCore

extension SeenFilter: Decodable {
    /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case _words = "words"
        case _wordCount = "wordCount"
        case _capacity = "capacity"
        case _current = "current"
        case _items = "items"
        case _rotations = "rotations"
    }

    /// Restores a filter saved with ``encode(to:)``: both generations, the capacity and the current count.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the capacity is out of 1 ... 2^28, the word count is not the
    ///   one the capacity gives, the word array is not twice the word count long, the current generation is not
    ///   0 or 1, or the item count is outside 0 ... capacity.
    public init(from decoder: any Decoder) throws {
        // In the order of the keys: the checkpoint's binary encoding is positional.
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let words = try c.decode([UInt64].self, forKey: ._words)
        let wordCount = try c.decode(Int.self, forKey: ._wordCount)
        let capacity = try c.decode(Int.self, forKey: ._capacity)
        try StateCheck.require(Self.capacities.contains(capacity), "SeenFilter: capacity \(capacity)", decoder)
        self.init(capacity: capacity)
        try StateCheck.require(wordCount == _wordCount, "SeenFilter: \(wordCount) words for \(capacity)", decoder)
        try StateCheck.require(words.count == 2 * wordCount, "SeenFilter: \(words.count) words", decoder)
        let current = try c.decode(Int.self, forKey: ._current)
        try StateCheck.require(current == 0 || current == 1, "SeenFilter: generation \(current)", decoder)
        let items = try c.decode(Int.self, forKey: ._items)
        try StateCheck.require((0...capacity).contains(items), "SeenFilter: \(items) items", decoder)
        let currentStart = current * wordCount
        let previousStart = (1 - current) * wordCount
        _words = Array(words[currentStart..<(currentStart + wordCount)])
        let previous = words[previousStart..<(previousStart + wordCount)]
        // A previous generation without a bit set stays unallocated, as before the first rotation.
        _previous = previous.contains { $0 != 0 } ? Array(previous) : []
        _current = current
        _items = items
        _rotations = try c.decode(UInt64.self, forKey: ._rotations)
    }
}

extension SeenFilter {
    /// Saves both generations as one array of twice ``wordCount`` words (the current generation in half
    /// `current`, the previous one, zeros before the first rotation, in the other), the capacity and the counts.
    ///
    /// - Complexity: O(words); builds the array of both generations.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var words: [UInt64] = []
        words.reserveCapacity(2 * _wordCount)
        let previous = _previous.isEmpty ? [UInt64](repeating: 0, count: _wordCount) : _previous
        words.append(contentsOf: _current == 0 ? _words : previous)
        words.append(contentsOf: _current == 0 ? previous : _words)
        try c.encode(words, forKey: ._words)
        try c.encode(_wordCount, forKey: ._wordCount)
        try c.encode(_capacity, forKey: ._capacity)
        try c.encode(_current, forKey: ._current)
        try c.encode(_items, forKey: ._items)
        try c.encode(_rotations, forKey: ._rotations)
    }
}
