public import SendWatchCore

/// Parses JSON-lines send logs of notification services: one JSON object per line, one send per object, one
/// ``SendEvent`` per distinct recipient.
///
/// Fields are found by a ``JSONFieldMapping`` (default schema: `ts`, `account`, `account_created`, `sender`,
/// `to`, `subject`, `template_id`, `message_id`, `client_ip`, `host`, `status`). Each line is validated as
/// strict JSON in one pass by a byte scanner that follows only the mapped paths; nothing else is materialised.
///
/// How a record becomes events:
/// - **time** (required): an RFC 3339 string read by ``Timestamps/readDateTime(_:at:zone:)`` that must be
///   consumed whole (fraction optional; offset-less times are in ``FormatConfiguration/zone``), or epoch time
///   as a number or as a string in JSON number syntax (`1772442904`, `"1772442904.25"`, `1.772442904e9`):
///   **seconds** when the magnitude is at most 1e11, **milliseconds** above (1e11 s is the year 5138 and 1e11 ms
///   is 1973, so a plausible time is never read in the wrong unit); fractions are kept to the microsecond and
///   truncated below. Missing or `null` → `missing_field`; any other form → `bad_timestamp`; outside
///   ``Timestamps/plausibleYears`` (by UTC year) or too large for microseconds in an `Int64` (`1e999`) →
///   `timestamp_out_of_range`.
/// - **recipients** (required): a string (one recipient; commas are *not* split, since a quoted local part or
///   display name may contain one) or an array whose string elements are recipients (other elements are
///   ignored). Surrounding ASCII whitespace is trimmed, empty strings skipped, exact repeats within one record
///   dropped (counted in ``JSONLinesCounters/duplicateRecipients``). At most ``maxRecipientsPerRecord`` distinct
///   recipients are kept, the first ones in order; the rest are counted in ``JSONLinesCounters``. None left →
///   `missing_field`.
/// - **account**: the `account` value (a non-empty string or a number, source ``AccountSource/header``),
///   else a non-empty sender (source ``AccountSource/sender``), else `missing_field`.
/// - **accountCreated**: same forms as the time; an unreadable or implausible value is dropped (`nil`) and
///   counted in ``JSONLinesCounters/badAccountCreated`` rather than losing the send.
/// - **status**: `sent`, `deferred`, `bounced`, `expired`, `discarded`, `accepted` (ASCII case-insensitive).
///   Missing or `null` → ``DeliveryStatus/accepted``; any other value → `.accepted` too, counted in
///   ``JSONLinesCounters/unknownStatus``.
/// - **messageID**: surrounding whitespace and one pair of `<>` removed. **queueID** is always `nil`.
/// - **subject** is kept as given (an empty subject stays `""`); template, message id, client IP and host are
///   `nil` when missing or empty. Text fields accept strings and numbers (a number gives its literal text); any
///   other JSON type counts as missing.
///
/// Line outcomes: empty or whitespace-only → `.ignored`; not JSON → `bad_json` (a raw NUL byte is simply
/// invalid JSON here); valid but not an object → `json_not_object`; nested deeper than `maxDepth` →
/// `json_too_deep`.
///
/// The parser is stateless across lines: ``beginInput(yearHint:)`` and ``finish(into:)`` do nothing.
///
/// Usage:
/// ```swift
/// var parser = JSONLinesParser(mapping: .amazonSES)
/// var events: EventBatch = []
/// let outcome = line.withUnsafeBytes { parser.parse(line: $0, into: &events) }
/// ```
public struct JSONLinesParser: EventParser, Sendable {
    /// Settings shared with the other formats (only ``FormatConfiguration/zone`` is used here).
    public let configuration: FormatConfiguration
    /// Where the fields are.
    public let mapping: JSONFieldMapping
    /// The most distinct recipients taken from one record (default 10,000).
    public let maxRecipientsPerRecord: Int

    public internal(set) var counters = ParseCounters()
    /// Counters specific to this format.
    public internal(set) var jsonCounters = JSONLinesCounters()

    private var scanner: JSONScanner
    private var zone: LocalTimeZone

    /// Creates a parser.
    ///
    /// - Parameters:
    ///   - configuration: shared format settings; the zone applies to RFC 3339 times without an offset.
    ///   - mapping: the field paths (default: the default schema).
    ///   - maxRecipientsPerRecord: the most distinct recipients per record (default 10,000; at least 1). The
    ///     scanner records at most four times as many `to` array elements, so duplicates and non-strings
    ///     cannot make the bound meaningless.
    ///   - maxDepth: the most nested objects/arrays per record, the top-level object included (default 64).
    public init(
        configuration: FormatConfiguration = .init(),
        mapping: JSONFieldMapping = .init(),
        maxRecipientsPerRecord: Int = 10_000,
        maxDepth: Int = 64
    ) {
        self.configuration = configuration
        self.mapping = mapping
        self.maxRecipientsPerRecord = max(1, maxRecipientsPerRecord)
        self.zone = configuration.zone
        let cap = self.maxRecipientsPerRecord
        self.scanner = JSONScanner(
            paths: mapping.paths,
            maxDepth: maxDepth,
            maxElementsPerArray: cap > Int.max / 8 ? cap : cap * 4
        )
    }

    /// Starts the zone's stream (the previous time that places a repeated local hour); records carry full
    /// timestamps and the parser keeps no other state between lines.
    public mutating func beginInput(yearHint: YearHint) { zone.beginStream() }

    /// Does nothing: no record spans lines.
    public mutating func finish(into events: inout EventBatch) {}

    /// Parses one record and appends one event per distinct recipient.
    ///
    /// - Complexity: O(line length + recipients); allocates only the `String`s of kept values.
    public mutating func parse(line: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        counters.lines += 1
        let outcome = parseRecord(line, into: &events)
        counters.record(outcome)
        return outcome
    }

    private typealias Field = JSONFieldMapping.Field

    private mutating func parseRecord(_ p: UnsafeRawBufferPointer, into events: inout EventBatch) -> LineOutcome {
        if JSONScanner.skipWhitespace(p, 0) == p.count { return .ignored }
        switch scanner.scan(p) {
        case .object: break
        case .notObject: return .rejected(.jsonNotObject)
        case .invalid: return .rejected(.badJSON)
        case .tooDeep: return .rejected(.jsonTooDeep)
        }

        guard let timeValue = value(.time), timeValue.kind != .null else { return .rejected(.missingField) }
        let time: EventTime
        switch JSONTimestamp.read(p, timeValue, zone: &zone) {
        case .success(let t): time = t
        case .failure(let reason): return .rejected(reason)
        }

        let recipients = readRecipients(p)
        guard !recipients.isEmpty else { return .rejected(.missingField) }

        let sender = text(p, .sender) ?? ""
        let account: String
        let accountSource: AccountSource
        if let a = text(p, .account), !a.isEmpty {
            account = a
            accountSource = .header
        } else if !sender.isEmpty {
            account = sender
            accountSource = .sender
        } else {
            return .rejected(.missingField)
        }

        var accountCreated: EventTime?
        if let v = value(.accountCreated), v.kind != .null {
            if case .success(let t) = JSONTimestamp.read(p, v, zone: &zone) {
                accountCreated = t
            } else {
                jsonCounters.badAccountCreated += 1
            }
        }

        let subject = text(p, .subject)
        let template = nonEmpty(text(p, .template))
        let messageID = nonEmpty(text(p, .messageID).map(JSONLinesParser.stripMessageID))
        let clientIP = nonEmpty(text(p, .clientIP))
        let host = nonEmpty(text(p, .host))
        let login = nonEmpty(text(p, .login))
        let status = readStatus(p)
        let subjectCut = subject != nil && value(.subjectCut)?.kind == .true

        for recipient in recipients {
            events.append(
                SendEvent(
                    time: time, host: host, account: account.accountKey, accountSource: accountSource,
                    accountCreated: accountCreated, sender: sender, recipient: recipient, subject: subject,
                    template: template, messageID: messageID, queueID: nil, clientIP: clientIP, login: login,
                    status: status, subjectCut: subjectCut
                )
            )
        }
        counters.events += recipients.count
        return .used
    }

    @inline(__always)
    private func value(_ field: Field) -> JSONScanner.Value? {
        scanner.value(ofPath: field.rawValue)
    }

    /// The text of a string or number field, or `nil` for any other type or when missing.
    private func text(_ p: UnsafeRawBufferPointer, _ field: Field) -> String? {
        guard let v = value(field), v.kind == .string || v.kind == .number else { return nil }
        return JSONScanner.decodeString(p, v)
    }

    private mutating func readRecipients(_ p: UnsafeRawBufferPointer) -> [String] {
        guard let v = value(.recipients) else { return [] }
        switch v.kind {
        case .string:
            let r = JSONLinesParser.trimmed(JSONScanner.decodeString(p, v))
            return r.isEmpty ? [] : [r]
        case .array:
            let elements = scanner.elements(ofPath: Field.recipients.rawValue)
            var result: [String] = []
            var seen = Set<String>()
            var dropped = 0
            for e in elements where e.kind == .string {
                let r = JSONLinesParser.trimmed(JSONScanner.decodeString(p, e))
                guard !r.isEmpty else { continue }
                // Linear search while small: no hashing for the common one-to-few recipients.
                let repeated: Bool
                if result.count < 16 {
                    repeated = result.contains(r)
                } else {
                    if seen.isEmpty { seen = Set(result) }
                    repeated = !seen.insert(r).inserted
                }
                if repeated {
                    jsonCounters.duplicateRecipients += 1
                } else if result.count < maxRecipientsPerRecord {
                    result.append(r)
                } else {
                    dropped += 1
                }
            }
            if scanner.elementsTruncated(ofPath: Field.recipients.rawValue) && dropped == 0 { dropped = 1 }
            if dropped > 0 {
                jsonCounters.recordsOverRecipientCap += 1
                jsonCounters.droppedRecipients += dropped
            }
            return result
        default:
            return []
        }
    }

    private mutating func readStatus(_ p: UnsafeRawBufferPointer) -> DeliveryStatus {
        guard let v = value(.status), v.kind != .null else { return .accepted }
        if v.kind == .string, let s = DeliveryStatus(rawValue: JSONScanner.decodeString(p, v).lowercased()) {
            return s
        }
        jsonCounters.unknownStatus += 1
        return .accepted
    }

    @inline(__always)
    private func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// `s` without leading and trailing ASCII whitespace; no copy when there is none.
    static func trimmed(_ s: String) -> String {
        let u = s.utf8
        guard let first = u.first, let last = u.last, isSpace(first) || isSpace(last) else { return s }
        guard let start = u.firstIndex(where: { !isSpace($0) }), let end = u.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(s[start...end])
    }

    /// A Message-ID without surrounding whitespace and one pair of angle brackets.
    static func stripMessageID(_ s: String) -> String {
        let t = trimmed(s)
        let u = t.utf8
        guard u.count >= 2, u.first == UInt8(ascii: "<"), u.last == UInt8(ascii: ">") else { return t }
        return trimmed(String(t.dropFirst().dropLast()))
    }
}
