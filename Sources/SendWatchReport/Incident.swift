internal import SendWatchCore

/// Everything the report keeps about one incident: all records whose `incident` is one id (schema v3; before it,
/// each alert id is its own incident), folded record by record.
///
/// Records of one alert are cumulative (an update lists all accounts so far, the latest top slot values), so
/// the latest record's lists replace the earlier ones where the rule sends a full list, and accounts, message
/// ids, alert ids and the evidence samples are merged, each up to its cap in ``ReportLimits``.
struct Incident: Sendable {
    /// The incident id (the `incident` of its records; after a merge, the merged incident's).
    var id: String
    /// The order in which the id first appeared: the final tie-break of every sort, so output is deterministic.
    let order: Int
    /// The kind of the incident's first alert (its colour).
    var kind: String
    /// The kinds of its listed alerts, in the order first seen.
    var kinds: [String] = []
    /// The incident's alerts (id and kind) in the order first seen, at most `maxAlertsPerIncident`.
    var alerts: [(id: String, kind: String)] = []
    /// Listed alerts whose last record was not a `close`.
    var openAlerts: Set<String> = []
    /// Records of alerts beyond `maxAlertsPerIncident`, folded in but not listed.
    var recordsOfUnlistedAlerts = 0
    /// The highest severity of any record.
    var severity: Severity
    /// The latest record's score.
    var score: Double
    /// The earliest `first_event_time` of any record.
    var start: EventTime
    /// The latest `event_time` of any record.
    var end: EventTime
    /// Whether every listed alert's last record was a `close`.
    var closed: Bool { openAlerts.isEmpty }
    var records = 0
    /// Accounts in the order first listed, at most `maxAccountsPerIncident`.
    var accounts: [String] = []
    var accountSet: Set<String> = []
    /// The largest total any record gave.
    var accountsTotal = 0
    var template: AlertTemplate?
    var slotValues: [ReportAlert.SlotValue] = []
    var accountAge: ReportAlert.AccountAge?
    var messageIDs: [String] = []
    var sampleSubject: String?
    var recipientDomainCount: Int?
    var reasons: [String] = []
    /// The evidence samples: logins, client IPs, recipients, recipient domains, queue ids.
    var logins = SampleSet()
    var clientIPs = SampleSet()
    var recipients = SampleSet()
    var recipientDomains = SampleSet()
    var queueIDs = SampleSet()

    /// The evidence sample sets, in the order of ``ReportAlert/samples``: a record's and a merged incident's
    /// samples are folded in through this one list.
    static var sampleSets: [WritableKeyPath<Incident, SampleSet>] {
        [\.logins, \.clientIPs, \.recipients, \.recipientDomains, \.queueIDs]
    }

    init(first alert: ReportAlert, order: Int) {
        id = alert.incident
        self.order = order
        kind = alert.kind
        severity = alert.severity
        score = alert.score
        start = alert.firstEventTime
        end = alert.eventTime
    }

    /// Folds one more record of this alert in.
    ///
    /// - Returns: how many accounts were added to ``accounts`` (they are its last ones).
    @discardableResult
    mutating func add(_ alert: ReportAlert, limits: ReportLimits) -> Int {
        let before = accounts.count
        records += 1
        severity = max(severity, alert.severity)
        score = alert.score
        start = min(start, alert.firstEventTime)
        end = max(end, alert.eventTime)
        if alerts.contains(where: { $0.id == alert.id }) {
            if alert.action == .close { openAlerts.remove(alert.id) } else { openAlerts.insert(alert.id) }
        } else if alerts.count < limits.maxAlertsPerIncident {
            alerts.append((alert.id, alert.kind))
            if !kinds.contains(alert.kind) { kinds.append(alert.kind) }
            if alert.action != .close { openAlerts.insert(alert.id) }
        } else {
            recordsOfUnlistedAlerts += 1
        }
        for account in alert.accounts where accounts.count < limits.maxAccountsPerIncident {
            if accountSet.insert(account).inserted { accounts.append(account) }
        }
        accountsTotal = max(accountsTotal, alert.accountsTotal, accountSet.count)
        if let t = alert.template { template = t }
        if !alert.slotValues.isEmpty { slotValues = Array(alert.slotValues.prefix(limits.maxSlotValuesPerIncident)) }
        if let age = alert.accountAge { accountAge = age }
        for m in alert.sampleMessageIDs where messageIDs.count < limits.maxMessageIDsPerIncident {
            if !messageIDs.contains(m) { messageIDs.append(m) }
        }
        if let s = alert.sampleSubject { sampleSubject = s }
        if let n = alert.recipientDomainCount { recipientDomainCount = n }
        if !alert.reasons.isEmpty { reasons = alert.reasons }
        let cap = limits.maxSamplesPerIncident
        for (set, sample) in zip(Self.sampleSets, alert.samples) { self[keyPath: set].add(sample, cap: cap) }
        return accounts.count - before
    }

    /// Folds `other` (an incident merged into this one) in: its alerts, accounts, samples and times; the
    /// latest-record fields (template, slot values, reasons) stay this incident's unless it has none.
    ///
    /// - Complexity: O(size of `other`'s lists).
    mutating func absorb(_ other: Incident, limits: ReportLimits) {
        records += other.records
        severity = max(severity, other.severity)
        start = min(start, other.start)
        end = max(end, other.end)
        for alert in other.alerts where !alerts.contains(where: { $0.id == alert.id }) {
            guard alerts.count < limits.maxAlertsPerIncident else {
                recordsOfUnlistedAlerts += 1
                continue
            }
            alerts.append(alert)
            if !kinds.contains(alert.kind) { kinds.append(alert.kind) }
            if other.openAlerts.contains(alert.id) { openAlerts.insert(alert.id) }
        }
        recordsOfUnlistedAlerts += other.recordsOfUnlistedAlerts
        for account in other.accounts where accounts.count < limits.maxAccountsPerIncident {
            if accountSet.insert(account).inserted { accounts.append(account) }
        }
        accountsTotal = max(accountsTotal, other.accountsTotal, accountSet.count)
        if template == nil { template = other.template }
        if slotValues.isEmpty { slotValues = other.slotValues }
        if accountAge == nil { accountAge = other.accountAge }
        for m in other.messageIDs where messageIDs.count < limits.maxMessageIDsPerIncident {
            if !messageIDs.contains(m) { messageIDs.append(m) }
        }
        if sampleSubject == nil { sampleSubject = other.sampleSubject }
        if recipientDomainCount == nil { recipientDomainCount = other.recipientDomainCount }
        if reasons.isEmpty { reasons = other.reasons }
        let cap = limits.maxSamplesPerIncident
        for set in Self.sampleSets { self[keyPath: set].add(other[keyPath: set], cap: cap) }
    }

    /// The order incidents are chosen in for the timeline and the detail sections: most severe, then most
    /// accounts, then earliest, then first seen.
    static func moreImportant(_ a: Incident, _ b: Incident) -> Bool {
        if a.severity != b.severity { return a.severity > b.severity }
        if a.accountsTotal != b.accountsTotal { return a.accountsTotal > b.accountsTotal }
        if a.start != b.start { return a.start < b.start }
        return a.order < b.order
    }

    /// Chronological order: start, then end, then first seen.
    static func earlier(_ a: Incident, _ b: Incident) -> Bool {
        if a.start != b.start { return a.start < b.start }
        if a.end != b.end { return a.end < b.end }
        return a.order < b.order
    }

    /// The lure artefacts the alert itself names: in its slot values and its sample subject.
    var artefacts: [Indicators.Artefact] {
        var set = Set<Indicators.Artefact>()
        for v in slotValues { set.formUnion(Indicators.artefacts(in: v.value)) }
        if let s = sampleSubject { set.formUnion(Indicators.artefacts(in: s)) }
        return set.sorted()
    }
}

/// One evidence sample merged over an incident's records: distinct values in the order first listed, at most a
/// cap, and the largest total any record gave (at least the values kept).
struct SampleSet: Sendable {
    var values: [String] = []
    var total = 0

    /// Merges a record's sample, keeping at most `cap` values.
    ///
    /// - Complexity: O(s × cap) string comparisons for the s values of the sample.
    mutating func add(_ sample: ReportAlert.Sample, cap: Int) {
        for v in sample.values where values.count < cap && !values.contains(v) { values.append(v) }
        total = max(total, sample.total, values.count)
    }

    /// Merges another incident's sample set, keeping at most `cap` values.
    mutating func add(_ other: SampleSet, cap: Int) {
        add(ReportAlert.Sample(other.values, total: other.total), cap: cap)
    }
}

/// What the events say about one account named in an alert.
struct AccountActivity: Sendable {
    var firstSend: EventTime?
    var lastSend: EventTime?
    /// Send events (one per message and recipient).
    var events = 0
    /// The account's creation time, when the log carries it.
    var created: EventTime?
    /// Recipient domains and their event counts, at most `maxDomainsPerAccount`.
    var domains: [String: Int] = [:]
    /// Events to domains beyond the cap.
    var otherDomainEvents = 0
    /// Artefacts in the account's subjects and how many events carried each, at most `maxArtefactsPerAccount`.
    var artefacts: [Indicators.Artefact: Int] = [:]

    /// Folds one event in.
    ///
    /// - Returns: the artefacts this account had not been linked to before, and how many links the
    ///   per-account cap refused.
    mutating func record(
        _ event: SendEvent, domain: String?, artefacts found: [Indicators.Artefact], limits: ReportLimits
    ) -> (new: [Indicators.Artefact], notKept: Int) {
        let t = event.time
        firstSend = min(firstSend ?? t, t)
        lastSend = max(lastSend ?? t, t)
        events += 1
        if let c = event.accountCreated { created = c }
        if let domain {
            if domains[domain] != nil || domains.count < limits.maxDomainsPerAccount {
                domains[domain, default: 0] += 1
            } else {
                otherDomainEvents += 1
            }
        }
        var new: [Indicators.Artefact] = []
        var notKept = 0
        for artefact in found {
            if let n = artefacts[artefact] {
                artefacts[artefact] = n + 1
            } else if artefacts.count < limits.maxArtefactsPerAccount {
                artefacts[artefact] = 1
                new.append(artefact)
            } else {
                notKept += 1
            }
        }
        return (new, notKept)
    }

    /// The age at first send, when both times are known.
    var ageAtFirstSend: Duration? {
        guard let created, let firstSend else { return nil }
        return .microseconds(firstSend.microseconds - created.microseconds)
    }
}
