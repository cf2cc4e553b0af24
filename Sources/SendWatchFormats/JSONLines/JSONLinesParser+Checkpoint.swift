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
        var jsonCounters: SavedJSONLinesCounters
    }

    /// The parser's state between two lines, for
    /// ``init(configuration:mapping:maxRecipientsPerRecord:maxDepth:restoring:)``.
    ///
    /// - Complexity: O(1).
    public func checkpoint() -> Checkpoint {
        Checkpoint(counters: SavedCounters(counters), jsonCounters: SavedJSONLinesCounters(jsonCounters))
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
        jsonCounters = checkpoint.jsonCounters.counters
    }
}

/// ``JSONLinesCounters`` as saved in a checkpoint.
struct SavedJSONLinesCounters: Codable, Hashable, Sendable {
    var unknownStatus: Int64
    var badAccountCreated: Int64
    var recordsOverRecipientCap: Int64
    var droppedRecipients: Int64
    var duplicateRecipients: Int64

    init(_ c: JSONLinesCounters) {
        unknownStatus = Int64(c.unknownStatus)
        badAccountCreated = Int64(c.badAccountCreated)
        recordsOverRecipientCap = Int64(c.recordsOverRecipientCap)
        droppedRecipients = Int64(c.droppedRecipients)
        duplicateRecipients = Int64(c.duplicateRecipients)
    }

    private enum CodingKeys: String, CodingKey {
        case unknownStatus, badAccountCreated, recordsOverRecipientCap, droppedRecipients, duplicateRecipients
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        unknownStatus = try c.decode(Int64.self, forKey: .unknownStatus)
        badAccountCreated = try c.decode(Int64.self, forKey: .badAccountCreated)
        recordsOverRecipientCap = try c.decode(Int64.self, forKey: .recordsOverRecipientCap)
        droppedRecipients = try c.decode(Int64.self, forKey: .droppedRecipients)
        duplicateRecipients = try c.decode(Int64.self, forKey: .duplicateRecipients)
        for v in [unknownStatus, badAccountCreated, recordsOverRecipientCap, droppedRecipients, duplicateRecipients]
        where !(0...maxRestoredCount).contains(v) {
            throw checkpointCorrupted(
                "a JSON-lines counter is negative or implausibly large (\(v))", decoder.codingPath)
        }
    }

    var counters: JSONLinesCounters {
        var c = JSONLinesCounters()
        c.unknownStatus = Int(unknownStatus)
        c.badAccountCreated = Int(badAccountCreated)
        c.recordsOverRecipientCap = Int(recordsOverRecipientCap)
        c.droppedRecipients = Int(droppedRecipients)
        c.duplicateRecipients = Int(duplicateRecipients)
        return c
    }
}
