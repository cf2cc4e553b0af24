public import SendWatchCore
import SendWatchFormats

/// Reads a send event back from the JSON object `sendwatch events` writes for it (and `sendwatch ship`
/// publishes): the inverse of `SendEvent.writeJSONLine(to:)`.
///
/// Keys may come in any order; unknown keys are ignored (a later writer may add some). `time`, `account`,
/// `account_source`, `sender`, `recipient` and `status` are required, the rest may be missing or `null`.
///
/// Memory: the scanner's fixed tables (15 paths) and the decoded strings of one event.
///
/// Usage:
/// ```swift
/// var decoder = EventRecordDecoder()
/// let event = payload.withUnsafeBytes { decoder.decode($0) }   // nil: not an event record
/// ```
public struct EventRecordDecoder: Sendable {
    private var scanner: JSONScanner
    private static let keys = [
        "time", "host", "account", "account_source", "sender", "recipient", "subject", "template", "message_id",
        "queue_id", "client_ip", "login", "claimed_account", "status", "account_created",
    ]

    /// A decoder.
    public init() {
        scanner = JSONScanner(paths: Self.keys.map { [$0] }, maxDepth: 4, maxElementsPerArray: 0)
    }

    /// The event the record in `bytes` describes, or nil when it is not one (not a JSON object, a required key
    /// missing, a time or an enumerated value that does not parse).
    ///
    /// - Complexity: O(bytes).
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) -> SendEvent? {
        guard scanner.scan(bytes) == .object else { return nil }
        func text(_ i: Int) -> String? {
            guard let v = scanner.value(ofPath: i), v.kind == .string else { return nil }
            return JSONScanner.decodeString(bytes, v)
        }
        func time(_ i: Int) -> EventTime? {
            guard let v = scanner.value(ofPath: i), v.kind == .string else { return nil }
            var zone = LocalTimeZone.utc
            let field = UnsafeRawBufferPointer(rebasing: bytes[v.range])
            guard let (t, end) = Timestamps.readDateTime(field, at: 0, zone: &zone), end == field.count else {
                return nil
            }
            return t
        }
        guard let t = time(0), let account = text(2), let source = text(3).flatMap(AccountSource.init(rawValue:)),
            let sender = text(4), let recipient = text(5), let status = text(13).flatMap(DeliveryStatus.init(rawValue:))
        else { return nil }
        let created = time(14)
        if scanner.value(ofPath: 14).map({ $0.kind != .null }) ?? false, created == nil { return nil }
        return SendEvent(
            time: t, host: text(1), account: account, accountSource: source, accountCreated: created, sender: sender,
            recipient: recipient, subject: text(6), template: text(7), messageID: text(8), queueID: text(9),
            clientIP: text(10), login: text(11), claimedAccount: text(12), status: status)
    }
}

/// Reads only the `account` of an event record (the first stage of several workers looks its creation time up by
/// it): one scan of the record for one key, no other field decoded.
///
/// Memory: the scanner's fixed tables (1 path) and the decoded account name.
public struct EventAccountReader: Sendable {
    private var scanner = JSONScanner(paths: [["account"]], maxDepth: 4, maxElementsPerArray: 0)

    /// A reader.
    public init() {}

    /// The account of the record in `bytes`; nil when it is not a JSON object or has no string `account`.
    ///
    /// - Complexity: O(bytes).
    public mutating func account(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard scanner.scan(bytes) == .object, let v = scanner.value(ofPath: 0), v.kind == .string else { return nil }
        return JSONScanner.decodeString(bytes, v)
    }
}
