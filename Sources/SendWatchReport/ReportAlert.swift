public import SendWatchCore
public import SendWatchEval

/// One SendWatch alert record (any of ``AlertRecord/readableVersions``), reduced to what the HTML report shows.
///
/// Required keys are those every v1 record has: `v` (1), `id`, `action`, `kind`, `severity`, `event_time` and
/// `accounts`. Everything else is optional and read leniently, because evidence keys belong to the rule that
/// wrote them: `first_event_time` (default `event_time`), `score`, `accounts_total`, `template`, `reasons`, and
/// `incident` (v3; default `id`), from `evidence` `top_suspicious_slot_values`, `account_age_seconds` (a number, or
/// `{min, median, max}`), `sample_message_ids`, `sample_subject`, `recipient_domains` (a count), `submitters`
/// (`logins`, `client_ips`, each with its `_total`) and `deliveries` (v4: `recipients`, `recipient_domains`,
/// `queue_ids`, each with its `_total`). A value of another type than expected is ignored, not an error.
///
/// Every string is cut to ``maxStringCharacters`` characters (with a trailing `…`) and every list to
/// ``maxListItems`` items when read, so that one hostile record cannot make the report large.
public struct ReportAlert: Sendable, Equatable {
    /// The longest string kept from a record, in characters; longer ones are cut and end in `…`.
    public static let maxStringCharacters = 300
    /// The most items kept from any list in a record (accounts, slot values, message ids, reasons).
    public static let maxListItems = 200

    /// The alert id (`id`); all records of one alert share it.
    public var id: String
    /// The campaign the alert belongs to (`incident`, schema v3); ``id`` for older records.
    public var incident: String
    /// The incident ids merged into ``incident`` (`merged_incidents`, schema v5): the report folds their
    /// incidents into this one.
    public var mergedIncidents: [String] = []
    /// `create`, `update` or `close`.
    public var action: AlertAction
    /// The rule that fired (`kind`).
    public var kind: String
    public var severity: Severity
    /// The rule's score (0 when absent).
    public var score: Double
    /// When the record was written, in event time.
    public var eventTime: EventTime
    /// The first event that contributed (`first_event_time`), never after ``eventTime``.
    public var firstEventTime: EventTime
    /// The listed accounts (at most ``maxListItems``).
    public var accounts: [String]
    /// The rule's total, at least `accounts.count`.
    public var accountsTotal: Int
    /// The template involved, if any.
    public var template: AlertTemplate?
    /// `evidence.top_suspicious_slot_values`, in record order.
    public var slotValues: [SlotValue]
    /// `evidence.account_age_seconds`.
    public var accountAge: AccountAge?
    /// `evidence.sample_message_ids`.
    public var sampleMessageIDs: [String]
    /// `evidence.sample_subject`.
    public var sampleSubject: String?
    /// `evidence.recipient_domains` when it is a count.
    public var recipientDomainCount: Int?
    /// The rule's sentences explaining why it fired.
    public var reasons: [String]
    /// `evidence.submitters.logins` and `logins_total`.
    public var logins: Sample
    /// `evidence.submitters.client_ips` and `client_ips_total`.
    public var clientIPs: Sample
    /// `evidence.deliveries.recipients` and `recipients_total`.
    public var recipients: Sample
    /// `evidence.deliveries.recipient_domains` and `recipient_domains_total`.
    public var recipientDomains: Sample
    /// `evidence.deliveries.queue_ids` and `queue_ids_total` (Postfix queue ids, Exim message ids).
    public var queueIDs: Sample

    /// The evidence samples, in one order: logins, client IPs, recipients, recipient domains, queue ids.
    var samples: [Sample] { [logins, clientIPs, recipients, recipientDomains, queueIDs] }

    /// Makes a record; `firstEventTime` defaults to `eventTime`, `accountsTotal` to the accounts listed.
    public init(
        id: String, action: AlertAction, kind: String, severity: Severity, score: Double = 0, eventTime: EventTime,
        firstEventTime: EventTime? = nil, accounts: [String], accountsTotal: Int? = nil,
        template: AlertTemplate? = nil, slotValues: [SlotValue] = [], accountAge: AccountAge? = nil,
        sampleMessageIDs: [String] = [], sampleSubject: String? = nil, recipientDomainCount: Int? = nil,
        reasons: [String] = [], incident: String? = nil, logins: Sample = Sample(), clientIPs: Sample = Sample(),
        recipients: Sample = Sample(), recipientDomains: Sample = Sample(), queueIDs: Sample = Sample()
    ) {
        self.id = id
        self.incident = incident ?? id
        self.logins = logins
        self.clientIPs = clientIPs
        self.recipients = recipients
        self.recipientDomains = recipientDomains
        self.queueIDs = queueIDs
        self.action = action
        self.kind = kind
        self.severity = severity
        self.score = score
        self.eventTime = eventTime
        self.firstEventTime = firstEventTime ?? eventTime
        self.accounts = accounts
        self.accountsTotal = max(accountsTotal ?? accounts.count, accounts.count)
        self.template = template
        self.slotValues = slotValues
        self.accountAge = accountAge
        self.sampleMessageIDs = sampleMessageIDs
        self.sampleSubject = sampleSubject
        self.recipientDomainCount = recipientDomainCount
        self.reasons = reasons
    }

    /// Sample values of one kind from the evidence, and the total of distinct values the record gave.
    public struct Sample: Sendable, Equatable {
        /// The values as listed (at most ``ReportAlert/maxListItems``).
        public var values: [String]
        /// The record's `_total`, at least `values.count`.
        public var total: Int

        /// Makes a sample; `total` defaults to the values listed.
        public init(_ values: [String] = [], total: Int? = nil) {
            self.values = values
            self.total = max(total ?? values.count, values.count)
        }
    }

    /// A suspicious value seen in a template slot, as the evidence lists it. Read from an alert record only (its
    /// memberwise init is internal).
    public struct SlotValue: Sendable, Equatable {
        /// The slot text as logged.
        public var value: String
        /// Messages that carried the value.
        public var count: Int
        /// Indicator names the rule found (`phone`, `url`, `money`, ...).
        public var indicators: [String]
    }

    /// An account age from the evidence: one account's, or the spread over the alert's accounts.
    public enum AccountAge: Sendable, Equatable {
        /// One account's age in seconds.
        case single(seconds: Int)
        /// The spread over the alert's accounts, in seconds.
        case spread(min: Int, median: Int, max: Int)
    }

    /// Reads one alert line (without its newline).
    ///
    /// - Returns: the record, or why the line is not one; ``AlertRecord/LineProblem/unsupportedVersion(_:)``
    ///   for a `v` outside ``AlertRecord/readableVersions``.
    /// - Complexity: O(n) in the line length (one JSON parse).
    public static func parse(line: some Collection<UInt8>) -> Result<ReportAlert, AlertRecord.LineProblem> {
        let object: [String: JSONNode]
        switch JSONNode.parse(line) {
        case .success(.object(let o)): object = o
        case .success(let other): return .failure(.malformed("the line is \(other.typeName), not a JSON object"))
        case .failure(let e): return .failure(.malformed(e.reason))
        }
        guard case .int(let version)? = object["v"] else {
            return .failure(.malformed("'v' must be a number from \(AlertRecord.versionsText)"))
        }
        guard AlertRecord.readableVersions.contains(Int(clamping: version)) else {
            return .failure(.unsupportedVersion(String(version)))
        }
        guard case .string(let id)? = object["id"] else { return .failure(.malformed("missing string 'id'")) }
        guard case .string(let actionText)? = object["action"], let action = AlertAction(rawValue: actionText) else {
            return .failure(.malformed("'action' must be create, update or close"))
        }
        guard case .string(let kind)? = object["kind"] else { return .failure(.malformed("missing string 'kind'")) }
        guard case .string(let severityText)? = object["severity"], let severity = Severity(rawValue: severityText)
        else { return .failure(.malformed("'severity' must be low, medium, high or critical")) }
        guard case .string(let timeText)? = object["event_time"], let eventTime = RFC3339.parse(timeText) else {
            return .failure(.malformed("'event_time' must be an RFC 3339 time"))
        }
        guard case .array(let accountNodes)? = object["accounts"] else {
            return .failure(.malformed("'accounts' must be an array of strings"))
        }
        var first = eventTime
        if case .string(let t)? = object["first_event_time"], let parsed = RFC3339.parse(t) {
            first = min(parsed, eventTime)
        }
        var template: AlertTemplate?
        if case .object(let t)? = object["template"], case .string(let tid)? = t["id"],
            case .string(let text)? = t["text"]
        {
            template = AlertTemplate(id: clip(tid), text: clip(text))
        }
        let evidence: [String: JSONNode]
        if case .object(let e)? = object["evidence"] { evidence = e } else { evidence = [:] }
        var slotValues: [SlotValue] = []
        if case .array(let items)? = evidence["top_suspicious_slot_values"] {
            for case .object(let item) in items.prefix(maxListItems) {
                guard case .string(let value)? = item["value"] else { continue }
                let indicators = strings(item["indicators"])
                slotValues.append(SlotValue(value: clip(value), count: int(item["count"]) ?? 0, indicators: indicators))
            }
        }
        var age: AccountAge?
        switch evidence["account_age_seconds"] {
        case .int(let s)?: age = .single(seconds: Int(clamping: s))
        case .object(let o)?:
            if let lo = int(o["min"]), let mid = int(o["median"]), let hi = int(o["max"]) {
                age = .spread(min: lo, median: mid, max: hi)
            }
        default: break
        }
        var subject: String?
        if case .string(let s)? = evidence["sample_subject"] { subject = clip(s) }
        func sample(_ group: String, _ key: String) -> Sample {
            guard case .object(let o)? = evidence[group] else { return Sample() }
            return Sample(strings(o[key]), total: int(o[key + "_total"]))
        }
        var incident: String?
        if case .string(let s)? = object["incident"] { incident = clip(s) }
        var score = 0.0
        switch object["score"] {
        case .int(let i)?: score = Double(i)
        case .double(let d)?: score = d
        default: break
        }
        return .success(
            ReportAlert(
                id: clip(id), action: action, kind: clip(kind), severity: severity, score: score, eventTime: eventTime,
                firstEventTime: first, accounts: strings(.array(accountNodes)),
                accountsTotal: int(object["accounts_total"]), template: template, slotValues: slotValues,
                accountAge: age, sampleMessageIDs: strings(evidence["sample_message_ids"]), sampleSubject: subject,
                recipientDomainCount: int(evidence["recipient_domains"]), reasons: strings(object["reasons"]),
                incident: incident, logins: sample("submitters", "logins"),
                clientIPs: sample("submitters", "client_ips"), recipients: sample("deliveries", "recipients"),
                recipientDomains: sample("deliveries", "recipient_domains"),
                queueIDs: sample("deliveries", "queue_ids")
            )
            .withMergedIncidents(strings(object["merged_incidents"])))
    }

    /// `self` with ``mergedIncidents`` set.
    func withMergedIncidents(_ ids: [String]) -> ReportAlert {
        var copy = self
        copy.mergedIncidents = ids
        return copy
    }

    /// `s`, cut to ``maxStringCharacters`` characters.
    static func clip(_ s: String) -> String {
        // The UTF-8 count bounds the character count from above, so short strings skip the character walk.
        guard s.utf8.count > maxStringCharacters, s.count > maxStringCharacters else { return s }
        return String(s.prefix(maxStringCharacters - 1)) + "…"
    }

    private static func strings(_ node: JSONNode?) -> [String] {
        guard case .array(let items)? = node else { return [] }
        var out: [String] = []
        for case .string(let s) in items.prefix(maxListItems) { out.append(clip(s)) }
        return out
    }

    private static func int(_ node: JSONNode?) -> Int? {
        switch node {
        case .int(let i)?: return i >= 0 ? Int(clamping: i) : nil
        case .double(let d)?: return d >= 0 && d < 9e15 ? Int(d) : nil
        default: return nil
        }
    }
}
