import SendWatchCore

extension JSONLinesParser {
    /// The state of a ``JSONLinesParser``: only its counters (``ParseCounters`` and ``JSONLinesCounters``),
    /// since no record spans lines. The field mapping and bounds are configuration and are given again to
    /// ``init(configuration:mapping:maxRecipientsPerRecord:maxDepth:restoring:)``; the scanner's buffers are
    /// rebuilt empty (they are reset for every line).
    ///
    /// Decoding checks that every counter is plausible (not negative, below 2^56) and that the reject
    /// reasons are known, and throws `DecodingError.dataCorrupted` otherwise.
    public struct Checkpoint: Codable, Hashable, Sendable {
        var counters: SavedCounters
        var jsonCounters: JSONLinesCounters
    }

    /// The parser's state between two lines, for
    /// ``init(configuration:mapping:maxRecipientsPerRecord:maxDepth:restoring:)``.
    ///
    /// - Complexity: O(1).
    public func checkpoint() -> Checkpoint {
        Checkpoint(counters: SavedCounters(counters), jsonCounters: jsonCounters)
    }

    /// Rebuilds a parser with the saved counters.
    ///
    /// - Parameters:
    ///   - configuration, mapping, maxRecipientsPerRecord, maxDepth: as for
    ///     ``init(configuration:mapping:maxRecipientsPerRecord:maxDepth:)`` (not part of the checkpoint).
    ///   - checkpoint: a value from ``checkpoint()``, usually decoded from a checkpoint file.
    /// - Throws: nothing today (every check runs when the checkpoint is decoded); `throws` keeps the restoring
    ///   initialisers of all parsers alike.
    public init(
        configuration: FormatConfiguration = .init(),
        mapping: JSONFieldMapping = .init(),
        maxRecipientsPerRecord: Int = 10_000,
        maxDepth: Int = 64,
        restoring checkpoint: Checkpoint
    ) throws {
        self.init(
            configuration: configuration, mapping: mapping, maxRecipientsPerRecord: maxRecipientsPerRecord,
            maxDepth: maxDepth)
        counters = checkpoint.counters.counters
        jsonCounters = checkpoint.jsonCounters
    }
}
