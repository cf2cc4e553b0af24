import SendWatchCore

extension JSONLinesParser {
    /// The state of a ``JSONLinesParser``: only its counters (``ParseCounters`` and ``JSONLinesCounters``),
    /// since no record spans lines. The field mapping and bounds are configuration and are given again to
    /// ``init(configuration:mapping:maxRecipientsPerRecord:maxDepth:restoring:)``; the scanner's buffers are
    /// rebuilt empty (they are reset for every line).
    ///
    /// Decoding checks that every counter is plausible (not negative, below 2^56) and that the reject
    /// reasons are known, and throws `DecodingError.dataCorrupted` otherwise.
    public struct Checkpoint: Hashable, Sendable, VersionedCheckpoint {
        public typealias Parser = JSONLinesParser

        var counters: SavedCounters
        var jsonCounters: JSONLinesCounters

        init(counters: SavedCounters, jsonCounters: JSONLinesCounters) {
            self.counters = counters
            self.jsonCounters = jsonCounters
        }

        private enum CodingKeys: String, CodingKey { case counters, jsonCounters }

        /// Writes the layout of checkpoint `layout` (one of ``JSONLinesParser/readCheckpointVersions``), fields in the
        /// order ``init(from:layout:)`` reads them.
        public func encode(to encoder: any Encoder, layout: CheckpointVersion) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(counters, forKey: .counters, version: layout)
            try c.encode(jsonCounters, forKey: .jsonCounters)
        }

        /// Reads the layout of checkpoint `layout` (one of ``JSONLinesParser/readCheckpointVersions``): 1 is 2
        /// without ``ParseCounters/otherMailServerLines`` (read as 0; this parser never counts it, but its
        /// counters are saved as every parser's are).
        ///
        /// - Throws: `DecodingError.dataCorrupted` when the state does not decode as that layout.
        public init(from decoder: any Decoder, layout: CheckpointVersion) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            counters = try c.decode(SavedCounters.self, forKey: .counters, version: layout)
            jsonCounters = try c.decode(JSONLinesCounters.self, forKey: .jsonCounters)
        }
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
