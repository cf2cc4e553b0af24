/// One alert record: what a detector found, with the evidence that explains it.
///
/// Alerts have a lifecycle: `create` when a detector first fires for a subject (a template, an account, a
/// recipient), `update` when the alert grows (more accounts, more messages, higher severity), `close` when the
/// subject has been quiet for the detector's cooldown. All records of one alert share its ``id``.
public struct Alert: Sendable, Equatable {
    /// The alert's id: the same input and configuration always give the same id.
    public var id: String
    /// The incident the alert belongs to: the ``id`` of the first alert of the campaign. Alerts of different
    /// rules that share an account or a lure artefact share it, and when an alert links two incidents they
    /// become one: later records of all their alerts carry the oldest one's id (``mergedIncidents`` names the
    /// others). Defaults to ``id``.
    public var incident: String
    /// The incident ids merged into ``incident`` so far, in the order they were merged, at most
    /// ``maxMergedIncidents``; empty when none was. Records written before a merge keep the id they had.
    public var mergedIncidents: [String]
    /// What this record says about the alert.
    public var action: AlertAction
    /// The detector that fired, e.g. `template_swarm`.
    public var kind: String
    public var severity: Severity
    /// A detector-defined score, larger is more certain; comparable within one kind.
    public var score: Double
    /// The log time at which the alert fired or changed.
    public var eventTime: EventTime
    /// The log time of the first event that contributed to the alert.
    public var firstEventTime: EventTime
    /// The implicated accounts, sorted, at most the documented cap.
    public var accounts: [String]
    /// The number of implicated accounts, which may exceed `accounts.count`.
    public var accountsTotal: Int
    /// What this record lists that the previous record of the same alert did not, so that a consumer need not
    /// compare long lists: first `accounts` (always present, maybe empty), then each evidence key whose value is
    /// a list of strings and gained values (e.g. `sample_message_ids`), in evidence order; each list sorted as
    /// its source is. `nil` on `create` records (everything is new).
    public var added: [(key: String, values: [String])]?
    /// The template involved, if any.
    public var template: AlertTemplate?
    /// Observed counts, thresholds and baselines, windows, samples: an ordered JSON object.
    public var evidence: [(String, JSONValue)]
    /// Short human sentences explaining why the alert fired.
    public var reasons: [String]

    public init(
        id: String, action: AlertAction, kind: String, severity: Severity, score: Double, eventTime: EventTime,
        firstEventTime: EventTime, accounts: [String], accountsTotal: Int, template: AlertTemplate?,
        evidence: [(String, JSONValue)], reasons: [String]
    ) {
        self.id = id
        self.incident = id
        self.mergedIncidents = []
        self.action = action
        self.kind = kind
        self.severity = severity
        self.score = score
        self.eventTime = eventTime
        self.firstEventTime = firstEventTime
        self.accounts = accounts
        self.accountsTotal = accountsTotal
        self.template = template
        self.evidence = evidence
        self.reasons = reasons
        self.added = nil
    }

    public static func == (lhs: Alert, rhs: Alert) -> Bool {
        lhs.id == rhs.id && lhs.incident == rhs.incident && lhs.mergedIncidents == rhs.mergedIncidents
            && lhs.action == rhs.action && lhs.kind == rhs.kind
            && lhs.severity == rhs.severity
            && lhs.score == rhs.score && lhs.eventTime == rhs.eventTime && lhs.firstEventTime == rhs.firstEventTime
            && lhs.accounts == rhs.accounts && lhs.accountsTotal == rhs.accountsTotal && lhs.template == rhs.template
            && lhs.reasons == rhs.reasons && lhs.evidence.map(\.0) == rhs.evidence.map(\.0)
            && lhs.evidence.map(\.1) == rhs.evidence.map(\.1) && lhs.added?.map(\.key) == rhs.added?.map(\.key)
            && lhs.added?.map(\.values) == rhs.added?.map(\.values)
    }

    /// What `self` lists that `previous` did not (see ``added``): the accounts, then every evidence key whose
    /// value is a list of strings, compared with the same key in `previous`.
    ///
    /// - Complexity: O(n) in the lengths of the lists compared, with one `Set` per list of `previous`.
    public func additions(since previous: Alert) -> [(key: String, values: [String])] {
        func new(_ current: [String], _ before: [String]) -> [String] {
            guard !current.isEmpty else { return [] }
            let seen = Set(before)
            return current.filter { !seen.contains($0) }
        }
        var out: [(key: String, values: [String])] = [("accounts", new(accounts, previous.accounts))]
        for (key, value) in evidence {
            guard let strings = value.strings else { continue }
            let before = previous.evidence.first(where: { $0.0 == key })?.1.strings ?? []
            let fresh = new(strings, before)
            if !fresh.isEmpty { out.append((key, fresh)) }
        }
        return out
    }
}

/// What an alert record says: the alert is new, has grown, or has ended.
public enum AlertAction: String, Sendable, Hashable, CaseIterable {
    case create, update, close
}

/// How bad an alert is, in increasing order.
public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
    case low, medium, high, critical

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// The template an alert is about.
public struct AlertTemplate: Sendable, Hashable, Codable {
    /// The template's stable key: 16 hex digits (for an explicit id, a fixed hash of it). Alerts and the
    /// detection tables are keyed by it; written as `template.key`.
    public var id: String
    /// The template text with `<*>` for slots.
    public var text: String
    /// The explicit template id exactly as the log gave it (template header, JSON `template_id`), or `nil` for a
    /// mined template. Written as `template.id` (a mined template's `id` is its key). Bounded by the line length
    /// (`input.max_line_bytes`).
    public var logged: String?

    public init(id: String, text: String, logged: String? = nil) {
        self.id = id
        self.text = text
        self.logged = logged
    }
}

/// A JSON value for alert evidence, kept in the order it was built so that output is byte-for-byte stable.
public indirect enum JSONValue: Sendable, Equatable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension JSONValue {
    /// The strings of an array whose every element is a string; otherwise `nil`.
    public var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }
}

extension JSONWriter {
    /// Writes a ``JSONValue``.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .bool(let b): bool(b)
        case .null: null()
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let pairs):
            beginObject()
            for (k, item) in pairs {
                key(dynamic: k)
                value(item)
            }
            endObject()
        }
    }
}

extension Alert {
    /// The version of SendWatch's alert schema that ``writeJSONLine(to:)`` writes (`v`). 2: `template.id` is
    /// the id as logged and `template.key` the stable hash (v1's `template.id`); `added` on update and close
    /// records. 3: `incident` after `id`. 4: `evidence.deliveries` (sample recipients, recipient domains and
    /// queue ids) after `evidence.submitters`. 5: an incident takes in every incident an alert links it to (the
    /// oldest id stays), and `merged_incidents` after `incident` names the ids merged into it.
    public static let schemaVersion = 5

    /// The most ids ``mergedIncidents`` lists: 64. Ids merged later still join the incident but are not named.
    public static let maxMergedIncidents = 64

    /// Writes `merged_incidents` when ``mergedIncidents`` is not empty.
    func writeMergedIncidents(to w: inout JSONWriter) {
        guard !mergedIncidents.isEmpty else { return }
        w.key("merged_incidents"); w.strings(mergedIncidents)
    }

    /// Writes ``template`` as `{"id", "key", "text"}` (`id`: the id as logged, else the key), or `null`.
    func writeTemplate(to w: inout JSONWriter) {
        guard let template else {
            w.null()
            return
        }
        w.beginObject()
        w.key("id"); w.string(template.logged ?? template.id)
        w.key("key"); w.string(template.id)
        w.key("text"); w.string(template.text)
        w.endObject()
    }

    /// Writes ``added`` as an object of lists, when present.
    func writeAdded(to w: inout JSONWriter) {
        guard let added else { return }
        w.object("added") { w in
            for (key, values) in added {
                w.key(dynamic: key)
                w.strings(values)
            }
        }
    }

    /// Writes the alert as one line of SendWatch's alert schema version ``schemaVersion``, keys in this fixed
    /// order: `v`, `id`, `incident`, `merged_incidents` (when not empty), `action`, `kind`, `severity`, `score`, `event_time`, `first_event_time`, `accounts`,
    /// `accounts_total`, `added` (update and close records only), `template`, `evidence`, `reasons`.
    public func writeJSONLine(to w: inout JSONWriter) {
        w.beginObject()
        w.key("v"); w.int(Self.schemaVersion)
        w.key("id"); w.string(id)
        w.key("incident"); w.string(incident)
        writeMergedIncidents(to: &w)
        w.key("action"); w.string(action.rawValue)
        w.key("kind"); w.string(kind)
        w.key("severity"); w.string(severity.rawValue)
        w.key("score"); w.double(score, decimals: 3)
        w.key("event_time"); w.time(eventTime)
        w.key("first_event_time"); w.time(firstEventTime)
        w.key("accounts"); w.strings(accounts)
        w.key("accounts_total"); w.int(accountsTotal)
        writeAdded(to: &w)
        w.key("template"); writeTemplate(to: &w)
        w.key("evidence"); w.value(.object(evidence))
        w.key("reasons"); w.strings(reasons)
        w.endObject()
        w.newline()
    }
}
