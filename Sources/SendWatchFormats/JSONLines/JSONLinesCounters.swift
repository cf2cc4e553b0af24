import SendWatchCore

/// Counters ``JSONLinesParser`` keeps beyond ``ParseCounters``: things it repaired or bounded without
/// rejecting the record.
///
/// Saved in the parser's ``JSONLinesParser/Checkpoint`` as they are: the five counters in this order (each
/// a 64-bit integer in the positional state encoding), each checked when decoded.
public struct JSONLinesCounters: Hashable, Sendable, Codable {
    /// Records whose status was present but not one of the known values (read as `accepted`).
    public var unknownStatus = 0
    /// Records whose `account_created` was present but unreadable or implausible (dropped).
    public var badAccountCreated = 0
    /// Records with more recipients than ``JSONLinesParser/maxRecipientsPerRecord`` (or more `to` array
    /// elements than the scanner records).
    public var recordsOverRecipientCap = 0
    /// Recipients not turned into events because of the cap (at least 1 per record over the scanner's bound,
    /// whose excess elements are not counted one by one).
    public var droppedRecipients = 0
    /// Repeated recipients within one record, dropped.
    public var duplicateRecipients = 0

    public init() {}

    /// Decodes saved counters, each checked to be plausible (not negative, below 2^56).
    ///
    /// - Throws: `DecodingError.dataCorrupted` for a counter out of that range.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int {
            let v = try c.decode(Int64.self, forKey: key)
            guard StateCheck.isCount(v) else {
                throw StateCheck.corrupt(
                    "a JSON-lines counter is negative or implausibly large (\(v))", decoder.codingPath)
            }
            return Int(v)
        }
        unknownStatus = try count(.unknownStatus)
        badAccountCreated = try count(.badAccountCreated)
        recordsOverRecipientCap = try count(.recordsOverRecipientCap)
        droppedRecipients = try count(.droppedRecipients)
        duplicateRecipients = try count(.duplicateRecipients)
    }
}
