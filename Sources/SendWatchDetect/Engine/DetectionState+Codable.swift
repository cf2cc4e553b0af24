import SendWatchCore
import SendWatchWindows

// Codable state of the shared tables. The simple per-key states (YoungAccountState, YoungSenders)
// use synthesized conformances; the ones holding tuples are written out here.

/// Encoded as its raw bits.
extension SlotIndicators: Codable {}

extension DomainSpread: Codable {
    enum CodingKeys: String, CodingKey {
        case keys, counts, other
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let k = try c.decode([UInt64].self, forKey: .keys)
        let n = try c.decode([UInt32].self, forKey: .counts)
        try StateCheck.require(
            k.count == 4 && n.count == 4, "DomainSpread: \(k.count) keys, \(n.count) counts", decoder)
        keys = (k[0], k[1], k[2], k[3])
        counts = (n[0], n[1], n[2], n[3])
        other = try c.decode(UInt32.self, forKey: .other)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([keys.0, keys.1, keys.2, keys.3], forKey: .keys)
        try c.encode([counts.0, counts.1, counts.2, counts.3], forKey: .counts)
        try c.encode(other, forKey: .other)
    }
}

extension TemplateState: Codable {
    enum CodingKeys: String, CodingKey {
        case text, topSlotValues, topSlotCounts, topSlotIndicators, sampleMessageIDs
    }

    /// Restores a template's state; the top slot values come as three parallel arrays and their byte figure is
    /// recomputed (it is always the sum of the values' UTF-8 lengths plus 32 bytes each).
    init(from decoder: any Decoder) throws {
        // Fields are decoded in the order of `CodingKeys`, the order the synthesized `encode(to:)` writes them
        // (positional coders rely on it).
        let c = try decoder.container(keyedBy: CodingKeys.self)
        text = try c.decode(String.self, forKey: .text)
        let values = try c.decode([String].self, forKey: .topSlotValues)
        let counts = try c.decode([Int64].self, forKey: .topSlotCounts)
        let indicators = try c.decode([SlotIndicators].self, forKey: .topSlotIndicators)
        sampleMessageIDs = try c.decode([String].self, forKey: .sampleMessageIDs)
        try StateCheck.require(
            values.count == counts.count && values.count == indicators.count && values.count <= 8,
            "TemplateState: top slot arrays differ in length or exceed 8", decoder)
        try StateCheck.require(counts.allSatisfy(StateCheck.isCount), "TemplateState: count out of range", decoder)
        topSlots = (0..<values.count).map { (values[$0], Int(counts[$0]), indicators[$0]) }
        topSlotBytes = values.reduce(0) { $0 + $1.utf8.count + 32 }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        try c.encode(topSlots.map(\.value), forKey: .topSlotValues)
        try c.encode(topSlots.map { Int64($0.count) }, forKey: .topSlotCounts)
        try c.encode(topSlots.map(\.indicators), forKey: .topSlotIndicators)
        try c.encode(sampleMessageIDs, forKey: .sampleMessageIDs)
    }
}

extension DetectionCounters: Decodable {
    /// The saved fields, in the order the synthesized `encode(to:)` writes them and `init(from:)` reads them.
    enum CodingKeys: String, CodingKey {
        case events, youngEvents, lateEvents, timeOutliers, creates, updates, closes, evictions
    }

    /// Restores the counters.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when a counter is negative or beyond 2^56.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        events = try c.decode(Int.self, forKey: .events)
        youngEvents = try c.decode(Int.self, forKey: .youngEvents)
        lateEvents = try c.decode(Int.self, forKey: .lateEvents)
        timeOutliers = try c.decode(Int.self, forKey: .timeOutliers)
        creates = try c.decode(Int.self, forKey: .creates)
        updates = try c.decode(Int.self, forKey: .updates)
        closes = try c.decode(Int.self, forKey: .closes)
        evictions = try c.decode(UInt64.self, forKey: .evictions)
        try StateCheck.require(
            [events, youngEvents, lateEvents, timeOutliers, creates, updates, closes].allSatisfy(StateCheck.isCount)
                && StateCheck.isCount(evictions), "DetectionCounters: counter out of range", decoder)
    }
}

extension Finding: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, key, severity, score, firstEventTime, accounts, accountsTotal, volume, template, evidence, reasons
    }

    /// Decodes a finding held by an open alert; the evidence must be a JSON object.
    ///
    /// - Throws: `DecodingError` for missing fields, unknown enum values, out-of-range times, or evidence that
    ///   is not an object.
    public init(from decoder: any Decoder) throws {
        // Fields are decoded in the order of `CodingKeys`, the order the synthesized `encode(to:)` writes them
        // (positional coders rely on it).
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = RuleName(try c.decode(String.self, forKey: .kind))
        let key = try c.decode(String.self, forKey: .key)
        let severity = try c.decode(Severity.self, forKey: .severity)
        let score = try c.decode(Double.self, forKey: .score)
        let firstEventTime = try c.decode(EventTime.self, forKey: .firstEventTime)
        let accounts = try c.decode([String].self, forKey: .accounts)
        let accountsTotal = try c.decode(Int.self, forKey: .accountsTotal)
        let volume = try c.decode(Int.self, forKey: .volume)
        let template = try c.decodeIfPresent(AlertTemplate.self, forKey: .template)
        let evidence = try c.decodeEvidence(forKey: .evidence)
        let reasons = try c.decode([String].self, forKey: .reasons)
        self.init(
            kind: kind, key: key, severity: severity, score: score, firstEventTime: firstEventTime, accounts: accounts,
            accountsTotal: accountsTotal, volume: volume, template: template, evidence: evidence, reasons: reasons)
    }

    /// Encodes every field; the evidence as one ``JSONValue`` object, keeping its key order, with the entries its
    /// account samples give (``recordEvidence``), so that a restored held finding writes the same record.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(key, forKey: .key)
        try c.encode(severity, forKey: .severity)
        try c.encode(score, forKey: .score)
        try c.encode(firstEventTime, forKey: .firstEventTime)
        try c.encode(accounts, forKey: .accounts)
        try c.encode(accountsTotal, forKey: .accountsTotal)
        try c.encode(volume, forKey: .volume)
        try c.encodeIfPresent(template, forKey: .template)
        try c.encode(JSONValue.object(recordEvidence), forKey: .evidence)
        try c.encode(reasons, forKey: .reasons)
    }
}

/// Why a saved detection state cannot be restored with the current configuration.
public struct DetectionCheckpointError: Error, Sendable, CustomStringConvertible {
    /// What does not fit, e.g. `"young accounts: table bounds 200000 entries / 1000 bytes"`.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "detection checkpoint does not fit the configuration: " + message }
}
