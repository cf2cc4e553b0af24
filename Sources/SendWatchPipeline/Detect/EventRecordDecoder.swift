public import SendWatchCore
import SendWatchFormats

/// A send event as the fleet's events stream carries it: the event, and the key `sendwatch ship` attaches to it.
///
/// The record is the JSON object `sendwatch events` writes for the event (``SendEvent/writeJSONMembers(to:)``),
/// without the newline, and, when ``hostMaxTime`` is set, one more key after the event's: `host_max_time`.
public struct EventRecord: Hashable, Sendable {
    /// The event.
    public var event: SendEvent
    /// The event's **merge key**: the greatest `time` of this event and of every earlier event of its host
    /// (`event.host`, a missing host counted as the host ""), in the order its agent published them: its host's
    /// running maximum. The per-host event-time merge of `sendwatch detect` gives the engine exactly the events
    /// sorted by (this key, host, position in the host's log) (docs/fleet.md, "Account facts in the first
    /// stage"). Nil when the record has none: written by `sendwatch events`, by a `ship` before the key existed,
    /// or for a host beyond ``HostTimeMaxima/maxHosts``. Nothing reads it for detection yet.
    public var hostMaxTime: EventTime?

    /// The record's key for ``hostMaxTime``.
    public static let hostMaxTimeKey: StaticString = "host_max_time"

    /// A record of `event` with the key `hostMaxTime` (nil: none).
    public init(event: SendEvent, hostMaxTime: EventTime? = nil) {
        self.event = event
        self.hostMaxTime = hostMaxTime
    }

    /// Writes the record as one JSON object, without a newline: the event's keys in `sendwatch events`' order,
    /// then `host_max_time` when the record has one.
    public func write(to writer: inout JSONWriter) { Self.write(event, hostMaxTime: hostMaxTime, to: &writer) }

    /// Writes the record of `event` with the key `hostMaxTime` (as ``write(to:)``) without making one: the event
    /// is borrowed, not copied into a record (`sendwatch ship` writes every event so).
    public static func write(_ event: SendEvent, hostMaxTime: EventTime?, to writer: inout JSONWriter) {
        writer.beginObject()
        event.writeJSONMembers(to: &writer)
        if let hostMaxTime {
            writer.key(hostMaxTimeKey); writer.time(hostMaxTime)
        }
        writer.endObject()
    }
}

/// Reads a send event back from the JSON object `sendwatch events` writes for it (and `sendwatch ship`
/// publishes, with its merge key): the inverse of ``EventRecord/write(to:)`` and `SendEvent.writeJSONLine(to:)`.
///
/// Keys may come in any order; unknown keys are ignored (a later writer may add some: a decoder from before
/// `host_max_time` reads ship's records as the events they carry). `time`, `account`, `account_source`,
/// `sender`, `recipient` and `status` are required, the rest may be missing or `null`.
///
/// Memory: the scanner's fixed tables (17 paths) and the decoded strings of one event.
///
/// Usage:
/// ```swift
/// var decoder = EventRecordDecoder()
/// let event = payload.withUnsafeBytes { decoder.decode($0) }   // nil: not an event record
/// let record = payload.withUnsafeBytes { decoder.decodeRecord($0) }   // the event and its merge key
/// ```
public struct EventRecordDecoder: Sendable {
    private var scanner: JSONScanner

    /// The keys read, in the scanner's path order (a key's raw value is its path index).
    private enum Key: Int, CaseIterable {
        case time, host, account, accountSource, sender, recipient, subject, template, messageID, queueID, clientIP
        case login, claimedAccount, status, accountCreated, hostMaxTime, subjectCut

        var name: String {
            switch self {
            case .time: "time"
            case .host: "host"
            case .account: "account"
            case .accountSource: "account_source"
            case .sender: "sender"
            case .recipient: "recipient"
            case .subject: "subject"
            case .template: "template"
            case .messageID: "message_id"
            case .queueID: "queue_id"
            case .clientIP: "client_ip"
            case .login: "login"
            case .claimedAccount: "claimed_account"
            case .status: "status"
            case .accountCreated: "account_created"
            case .hostMaxTime: "\(EventRecord.hostMaxTimeKey)"
            case .subjectCut: "subject_cut"
            }
        }
    }

    /// A decoder.
    public init() {
        scanner = JSONScanner(paths: Key.allCases.map { [$0.name] }, maxDepth: 4, maxElementsPerArray: 0)
    }

    /// The event the record in `bytes` describes, or nil when it is not one (``decodeRecord(_:)``'s event).
    ///
    /// - Complexity: O(bytes).
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) -> SendEvent? {
        decodeRecord(bytes)?.event
    }

    /// The event the record in `bytes` describes and its merge key (``EventRecord/hostMaxTime``: nil when the
    /// record has no `host_max_time`, or `null`), or nil when it is not an event record (not a JSON object, a
    /// required key missing, a time, among them `account_created` and `host_max_time` when present and not
    /// `null`, or an enumerated value that does not parse).
    ///
    /// - Complexity: O(bytes).
    public mutating func decodeRecord(_ bytes: UnsafeRawBufferPointer) -> EventRecord? {
        guard scanner.scan(bytes) == .object else { return nil }
        func text(_ key: Key) -> String? {
            guard let v = scanner.value(ofPath: key.rawValue), v.kind == .string else { return nil }
            return JSONScanner.decodeString(bytes, v)
        }
        func time(_ key: Key) -> EventTime? {
            guard let v = scanner.value(ofPath: key.rawValue), v.kind == .string else { return nil }
            var zone = LocalTimeZone.utc
            let field = UnsafeRawBufferPointer(rebasing: bytes[v.range])
            guard let (t, end) = Timestamps.readDateTime(field, at: 0, zone: &zone), end == field.count else {
                return nil
            }
            return t
        }
        guard let t = time(.time), let account = text(.account),
            let source = text(.accountSource).flatMap(AccountSource.init(rawValue:)), let sender = text(.sender),
            let recipient = text(.recipient), let status = text(.status).flatMap(DeliveryStatus.init(rawValue:))
        else { return nil }
        /// The optional time of `key`: `.some(nil)` when missing or `null`, nil when present and not a time.
        func optionalTime(_ key: Key) -> EventTime?? {
            guard let v = scanner.value(ofPath: key.rawValue), v.kind != .null else { return .some(nil) }
            return time(key).map { .some($0) }
        }
        guard let created = optionalTime(.accountCreated), let key = optionalTime(.hostMaxTime) else { return nil }
        var event = SendEvent(
            time: t, host: text(.host), account: account, accountSource: source, accountCreated: created,
            sender: sender, recipient: recipient, subject: text(.subject), template: text(.template),
            messageID: text(.messageID), queueID: text(.queueID), clientIP: text(.clientIP), login: text(.login),
            claimedAccount: text(.claimedAccount), status: status)
        // A subject the log cut (Postfix's 200-byte header line): the miner places it as a prefix, as in `replay`.
        event.subjectCut = scanner.value(ofPath: Key.subjectCut.rawValue)?.kind == .true
        return EventRecord(event: event, hostMaxTime: key)
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
