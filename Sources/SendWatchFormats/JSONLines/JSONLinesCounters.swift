/// Counters ``JSONLinesParser`` keeps beyond ``ParseCounters``: things it repaired or bounded without
/// rejecting the record.
public struct JSONLinesCounters: Hashable, Sendable {
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
}
