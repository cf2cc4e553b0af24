extension KeyedDecodingContainer {
    /// Decodes the count saved at `key`, checked with ``StateCheck/isCount(_:)`` (not negative, at most
    /// ``StateCheck/maxCount``): for the counters of a checkpoint that code increments or sums later.
    ///
    /// - Parameter what: how the error names the counter (`detect totals: events`).
    /// - Throws: `DecodingError.dataCorrupted` at the key's coding path for a count out of that range.
    package func decodeCount(forKey key: Key, _ what: @autoclosure () -> String) throws -> Int {
        let value = try decode(Int.self, forKey: key)
        guard StateCheck.isCount(value) else {
            throw StateCheck.corrupt("\(what()) is negative or implausibly large (\(value))", codingPath + [key])
        }
        return value
    }
}
