internal import SendWatchCore

/// Everything the report keeps about one alert (all records with one id), folded record by record.
///
/// Records of one alert are cumulative (an update lists all accounts so far, the latest top slot values), so
/// the latest record's lists replace the earlier ones where the rule sends a full list, and accounts and message
/// ids are merged, each up to its cap in ``ReportLimits``.
struct Incident: Sendable {
    let id: String
    /// The order in which the id first appeared: the final tie-break of every sort, so output is deterministic.
    let order: Int
    var kind: String
    /// The highest severity of any record.
    var severity: Severity
    /// The latest record's score.
    var score: Double
    /// The earliest `first_event_time` of any record.
    var start: EventTime
    /// The latest `event_time` of any record.
    var end: EventTime
    var closed = false
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

    init(first alert: ReportAlert, order: Int) {
        id = alert.id
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
        if alert.action == .close { closed = true }
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
        return accounts.count - before
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
