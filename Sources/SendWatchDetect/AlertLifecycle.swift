public import SendWatchCore

/// Turns detector findings into alert records: one alert per ongoing incident, with updates as it grows and a
/// close once it has been quiet, instead of a flood of repeats.
///
/// - A finding for a (kind, key) with no open alert **creates** one. Its id is a fixed hash of kind, key, the
///   finding's first event time and the creation time, so the same input always gives the same ids and an alert
///   that closes and opens again gets a new one.
/// - Each alert belongs to an **incident** (``Alert/incident``): alerts that list a common account or share a lure
///   artefact (``Finding/artefacts``: the same phone number, host, wallet or lure text) are one incident, so a
///   `slot_content` and a `template_swarm` alert about one wave, or the `shared_artefact` alerts of a rotating
///   campaign's wording and its phone number, share it. An alert links when it is created, and again whenever
///   it writes a record with accounts or gains artefacts, to the open alerts and to the alerts closed within
///   ``Configuration/incidentMemorySeconds``; when it links two or more incidents they are **merged**
///   (see ``AlertLifecycle`` `+Incidents`): the oldest incident's id stays, the others are relabelled.
/// - Further findings for an open alert emit an **update** only when the alert grew: a higher severity; at
///   least ``Configuration/growthFactor`` times the accounts or the volume of the last record; or anything
///   larger after ``Configuration/minUpdateIntervalSeconds`` of event time since the last record. Otherwise they
///   only keep the alert open.
/// - A finding held back because it came too soon is emitted as an **update** by ``emitHeld(at:)`` once
///   ``Configuration/minUpdateIntervalSeconds`` have passed since the last record, even if no further finding
///   comes.
/// - An alert with no finding for ``Configuration/cooldownSeconds`` of event time is **closed** by
///   ``advance(to:)``; a later finding for the same key opens a new alert with a new id.
///
/// Every `update` and `close` record carries ``Alert/added``: what it lists (accounts, and the evidence's lists
/// of strings) that the previous record of the alert did not.
///
/// Bound: at most ``Configuration/maxOpenAlerts`` open alerts. When full, the alert quiet for the longest is
/// closed early (its `close` record is emitted) to make room; ``closedEarly`` counts these.
public struct AlertLifecycle: Sendable {
    /// Lifecycle settings; all times are event time.
    public struct Configuration: Sendable, Equatable {
        /// Quiet time after which an alert closes. Default 30 minutes.
        public var cooldownSeconds: Int64
        /// Minimum event time between two updates that are not big changes. Default 10 minutes.
        public var minUpdateIntervalSeconds: Int64
        /// Growth of accounts or volume that justifies an update at once. Default 2.
        public var growthFactor: Double
        /// Most alerts open at once; also the most closed alerts remembered for linking incidents. Default 10,000.
        public var maxOpenAlerts: Int
        /// How long a closed alert's accounts and artefacts still link a new alert to its incident, so that a
        /// campaign slower than the cooldown stays one incident; 0 links open alerts only. Default 24 hours.
        public var incidentMemorySeconds: Int64

        public init(
            cooldownSeconds: Int64 = 1800, minUpdateIntervalSeconds: Int64 = 600, growthFactor: Double = 2,
            maxOpenAlerts: Int = 10_000, incidentMemorySeconds: Int64 = 86_400
        ) {
            self.cooldownSeconds = cooldownSeconds
            self.minUpdateIntervalSeconds = minUpdateIntervalSeconds
            self.growthFactor = growthFactor
            self.maxOpenAlerts = maxOpenAlerts
            self.incidentMemorySeconds = incidentMemorySeconds
        }
    }

    struct OpenAlert: Sendable, Codable {
        var last: Alert {
            // Array equality compares the buffers first, so a relabelled incident costs O(1) here.
            didSet { if last.accounts != oldValue.accounts { accountKeys = AccountKeys(last.accounts) } }
        }
        var lastVolume: Int
        var lastFinding: EventTime
        /// The newest finding not yet emitted (kept so that the close record carries the final figures), with
        /// the samples its record's evidence is built from when written (``Finding/recordEvidence``).
        var pending: Finding?
        /// When ``pending`` was built.
        var pendingAt: EventTime?
        /// The lure artefacts of the alert's findings (``Finding/artefacts``), first seen first, at most
        /// ``AlertLifecycle/maxArtefacts``.
        var artefacts: [UInt64]
        /// The keys of ``last``'s accounts, for incident linking (derived: not saved).
        private(set) var accountKeys: AccountKeys

        enum CodingKeys: String, CodingKey {
            case last, lastVolume, lastFinding, pending, pendingAt, artefacts
        }

        init(
            last: Alert, lastVolume: Int, lastFinding: EventTime, pending: Finding?, pendingAt: EventTime?,
            artefacts: [UInt64]
        ) {
            self.last = last
            self.lastVolume = lastVolume
            self.lastFinding = lastFinding
            self.pending = pending
            self.pendingAt = pendingAt
            self.artefacts = artefacts
            accountKeys = AccountKeys(last.accounts)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                last: try c.decode(Alert.self, forKey: .last), lastVolume: try c.decode(Int.self, forKey: .lastVolume),
                lastFinding: try c.decode(EventTime.self, forKey: .lastFinding),
                pending: try c.decodeIfPresent(Finding.self, forKey: .pending),
                pendingAt: try c.decodeIfPresent(EventTime.self, forKey: .pendingAt),
                artefacts: try c.decode([UInt64].self, forKey: .artefacts))
        }
    }

    /// Lure artefacts kept per open alert for linking incidents.
    static let maxArtefacts = 16

    /// How stale held evidence may get before ``wants(kind:key:severity:accountsTotal:volume:at:refreshVolume:)``
    /// asks for a fresh finding although only its volume changed: one minute of event time.
    static let pendingRefreshMicroseconds: Int64 = 60_000_000

    public let configuration: Configuration
    /// The open alerts by (kind, key) slot, indexed by account key and artefact for linking.
    var open = OpenAlerts()
    /// Alerts closed within ``Configuration/incidentMemorySeconds``, in the order they closed, at most
    /// ``Configuration/maxOpenAlerts``, indexed as the open ones.
    var closed = RememberedAlerts()
    /// Every incident an open or remembered alert belongs to, by id.
    var incidents: [String: IncidentInfo] = [:]
    /// Alerts closed early because ``Configuration/maxOpenAlerts`` was reached.
    public internal(set) var closedEarly = 0

    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// The number of open alerts.
    public var openCount: Int { open.count }

    /// Whether an alert for (kind, key) is open.
    ///
    /// - Complexity: O(1) expected.
    public func isOpen(kind: RuleName, key: String) -> Bool { open[Self.slotKey(kind, key)] != nil }

    /// Takes a finding at event time `now`; returns the record to emit, if any.
    ///
    /// - Complexity: O(1) expected, plus O(open alerts) when the table is full.
    public mutating func take(_ finding: Finding, at now: EventTime) -> [Alert] {
        var finding = finding
        let slotKey = Self.slotKey(finding.kind, finding.key)
        // Most findings for an open alert write nothing and bring no new artefact: they only replace the held
        // finding. That is done where the alert is stored; copying it out and writing it back through the
        // index-keeping setter cost more than the rest of such a take.
        let configuration = self.configuration
        let held = open.inPlace(slotKey) { current in
            guard !Self.gainsArtefacts(finding.artefacts, current.artefacts) else { return false }
            let figures = Self.figures(of: finding, against: current, at: now, configuration)
            guard !figures.writes else { return false }
            current.lastFinding = now
            if figures.changed {
                current.pending = finding
                current.pendingAt = now
            }
            return true
        }
        if held == true { return [] }
        var out: [Alert] = []
        if var current = open[slotKey] {
            current.lastFinding = now
            let artefactsBefore = current.artefacts.count
            Self.merge(finding.artefacts, into: &current.artefacts)
            let gainedArtefacts = current.artefacts.count > artefactsBefore
            let (writes, changed) = Self.figures(of: finding, against: current, at: now, configuration)
            // Its accounts are read twice when written: for the links and for the record.
            if writes { finding.flattenListing() }
            if writes || gainedArtefacts {
                open[slotKey] = current
                link(slotKey, accounts: writes ? finding.accounts : [], artefacts: current.artefacts, at: now)
                // Safe to force unwrap: linking relabels alerts, it never removes one.
                current = open[slotKey]!
            }
            if writes {
                let record = makeAlert(finding, action: .update, at: now, previous: current.last)
                current.last = record
                current.lastVolume = finding.volume
                current.pending = nil
                current.pendingAt = nil
                out.append(record)
            } else if changed {
                current.pending = finding
                current.pendingAt = now
            }
            open[slotKey] = current
            return out
        }
        if open.count >= configuration.maxOpenAlerts {
            out.append(contentsOf: closeQuietest())
        }
        // The creation time is part of the id: a rule whose evidence keeps its first event time across a close
        // (a template's first suspicious send) would otherwise give the reopened alert the closed one's id.
        var h = StableHash()
        h.combine(finding.kind.rawValue)
        h.combine(finding.key)
        h.combine(finding.firstEventTime.microseconds)
        h.combine(now.microseconds)
        // Its accounts are read twice: for the record and for the links.
        finding.flattenListing()
        var record = makeAlert(
            finding, id: "sw-" + h.hex, action: .create, at: now,
            firstEventTime: finding.firstEventTime, floor: .low, previous: nil)
        var artefacts: [UInt64] = []
        Self.merge(finding.artefacts, into: &artefacts)
        incidents[record.id] = IncidentInfo(created: now, merged: [])
        open[slotKey] = OpenAlert(
            last: record, lastVolume: finding.volume, lastFinding: now, pending: nil, pendingAt: nil,
            artefacts: artefacts)
        record.incident = link(slotKey, accounts: finding.accounts, artefacts: artefacts, at: now, fresh: true)
        stampIncident(&record)
        open[slotKey]?.last = record
        out.append(record)
        return out
    }

    /// Whether `finding` makes a record for the open alert `current` at `now` (`writes`: it grew, or it changed
    /// after the update interval) and whether it changes anything the alert last reported (`changed`).
    private static func figures(
        of finding: Finding, against current: borrowing OpenAlert, at now: EventTime, _ configuration: Configuration
    ) -> (writes: Bool, changed: Bool) {
        let grown =
            finding.severity > current.last.severity
            || Double(finding.accountsTotal) >= Double(max(1, current.last.accountsTotal)) * configuration.growthFactor
            || Double(finding.volume) >= Double(max(1, current.lastVolume)) * configuration.growthFactor
        let changed =
            finding.accountsTotal > current.last.accountsTotal || finding.volume > current.lastVolume
            || finding.severity > current.last.severity
        let waited =
            now.microseconds - current.last.eventTime.microseconds
            >= configuration.minUpdateIntervalSeconds * 1_000_000
        return (grown || (changed && waited), changed)
    }

    /// Whether ``merge(_:into:)`` would add one of `new` to `kept`.
    private static func gainsArtefacts(_ new: [UInt64], _ kept: [UInt64]) -> Bool {
        kept.count < maxArtefacts && new.contains { !kept.contains($0) }
    }

    /// Whether a finding with these figures for (kind, key) would create or update an alert or refresh the
    /// evidence held for its close record; when not, the caller can skip building the finding's evidence. Either
    /// way the alert (if open) counts as having seen a finding at `now`, so it stays open.
    ///
    /// - Complexity: O(1) expected, no allocation.
    /// - Parameter refreshVolume: ask for a fresh finding whenever the volume changed (cheap findings); when
    ///   false, held evidence is refreshed for a volume change at most once a minute (account lists are always
    ///   refreshed when the number of accounts changes).
    public mutating func wants(
        kind: RuleName, key: String, severity: Severity, accountsTotal: Int, volume: Int, at now: EventTime,
        refreshVolume: Bool = false
    ) -> Bool {
        // Decided where the alert is stored (``OpenAlerts/inPlace(_:_:)``): copying it out with `open[slotKey]`
        // retained and released its record and held finding on every call.
        let configuration = self.configuration
        return open.inPlace(Self.slotKey(kind, key)) { current in
            let reference =
                current.pending.map { ($0.severity, $0.accountsTotal, $0.volume) }
                ?? (current.last.severity, current.last.accountsTotal, current.lastVolume)
            let wanted =
                severity > reference.0 || accountsTotal != reference.1
                || Double(volume) >= Double(max(1, current.lastVolume)) * configuration.growthFactor
                || (volume > current.lastVolume
                    && now.microseconds - current.last.eventTime.microseconds
                        >= configuration.minUpdateIntervalSeconds * 1_000_000)
                || (volume != reference.2
                    && (refreshVolume
                        || now.microseconds - (current.pendingAt ?? current.last.eventTime).microseconds
                            >= Self.pendingRefreshMicroseconds))
            if !wanted { current.lastFinding = now }
            return wanted
        } ?? true
    }

    static func slotKey(_ kind: RuleName, _ key: String) -> UInt64 {
        var h = StableHash()
        h.combine(kind.rawValue)
        h.combine(key)
        return h.value
    }

    /// Closes the alerts quiet for the cooldown at event time `now`, in a stable order (first event time, id).
    public mutating func advance(to now: EventTime) -> [Alert] {
        let limit = configuration.cooldownSeconds * 1_000_000
        var due: [(UInt64, OpenAlert)] = []
        for (k, a) in open where now.microseconds - a.lastFinding.microseconds >= limit {
            due.append((k, a))
        }
        let forgot = forgetClosed(before: now)
        guard !due.isEmpty else {
            if forgot { pruneIncidents() }
            return []
        }
        due.sort { ($0.1.last.firstEventTime, $0.1.last.id) < ($1.1.last.firstEventTime, $1.1.last.id) }
        var out: [Alert] = []
        for (k, a) in due {
            open[k] = nil
            let record = closeRecord(a, at: EventTime(microseconds: a.lastFinding.microseconds + limit))
            remember(record, artefacts: a.artefacts)
            out.append(record)
        }
        pruneIncidents()
        return out
    }

    /// Emits the held finding of every open alert whose last record is at least
    /// ``Configuration/minUpdateIntervalSeconds`` old as an `update` at `now`, in a stable order (first event
    /// time, id); the alerts stay open.
    ///
    /// This keeps the promise of an update within the interval of anything new: a finding that came too soon
    /// after the last record is held, and without this an alert whose rule sees no further event (a campaign's
    /// next account may be the last on its template for a while) would report it only when it closes. The
    /// engine calls it as event time passes with the events (once a minute of event time), never from a quiet
    /// log's idle timer, so `tail` writes the records `replay` writes.
    ///
    /// - Complexity: O(open alerts), plus O(d log d) for the d records emitted.
    public mutating func emitHeld(at now: EventTime) -> [Alert] {
        let interval = configuration.minUpdateIntervalSeconds * 1_000_000
        var held: [(UInt64, OpenAlert)] = []
        for (k, a) in open where a.pending != nil && now.microseconds - a.last.eventTime.microseconds >= interval {
            held.append((k, a))
        }
        guard !held.isEmpty else { return [] }
        held.sort { ($0.1.last.firstEventTime, $0.1.last.id) < ($1.1.last.firstEventTime, $1.1.last.id) }
        return held.map { emitPending($0.0, $0.1, at: now) }
    }

    /// Emits `a`'s held finding as an `update` at `now` (or its last finding, if later) and keeps it open.
    private mutating func emitPending(_ k: UInt64, _ alert: OpenAlert, at now: EventTime) -> Alert {
        link(k, accounts: alert.pending?.accounts ?? [], artefacts: alert.artefacts, at: now)
        // Safe to force unwrap: linking relabels alerts, it never removes one.
        var a = open[k]!
        // Safe to force unwrap: callers pass only alerts with a held finding.
        let pending = a.pending!
        let record = makeAlert(pending, action: .update, at: max(now, a.lastFinding), previous: a.last)
        a.last = record
        a.lastVolume = pending.volume
        a.pending = nil
        a.pendingAt = nil
        open[k] = a
        return record
    }

    /// Emits an `update` for every open alert whose newest evidence has not been reported yet (the end of a
    /// replay: the last accounts and counts would otherwise only appear in a `close` record that never comes).
    /// Stable order (first event time, id). The alerts stay open.
    public mutating func flushPending(at now: EventTime) -> [Alert] {
        var due: [(UInt64, OpenAlert)] = []
        for (k, a) in open where a.pending != nil { due.append((k, a)) }
        guard !due.isEmpty else { return [] }
        due.sort { ($0.1.last.firstEventTime, $0.1.last.id) < ($1.1.last.firstEventTime, $1.1.last.id) }
        return due.map { emitPending($0.0, $0.1, at: now) }
    }

    /// Adds the artefacts `new` does not repeat to `kept`, up to ``maxArtefacts``.
    static func merge(_ new: [UInt64], into kept: inout [UInt64]) {
        for a in new where kept.count < maxArtefacts && !kept.contains(a) { kept.append(a) }
    }

    private mutating func closeQuietest() -> [Alert] {
        guard
            let victim = open.min(by: {
                ($0.value.lastFinding, $0.value.last.id) < ($1.value.lastFinding, $1.value.last.id)
            })
        else { return [] }
        open[victim.key] = nil
        closedEarly += 1
        let record = closeRecord(victim.value, at: victim.value.lastFinding)
        remember(record, artefacts: victim.value.artefacts)
        return [record]
    }

    private func closeRecord(_ a: OpenAlert, at time: EventTime) -> Alert {
        var record: Alert
        if let pending = a.pending {
            record = makeAlert(pending, action: .close, at: time, previous: a.last)
        } else {
            record = a.last
            record.action = .close
            record.eventTime = time
            record.added = record.additions(since: a.last)
        }
        stampIncident(&record)
        record.reasons.append("No new evidence for \(configuration.cooldownSeconds / 60) minutes: closed.")
        return record
    }

    /// A later record of the alert whose last record is `previous`: its id, first event time and severity
    /// floor, and what it lists that `previous` did not (``Alert/added``).
    private func makeAlert(_ f: Finding, action: AlertAction, at now: EventTime, previous: Alert) -> Alert {
        var record = makeAlert(
            f, id: previous.id, action: action, at: now, firstEventTime: previous.firstEventTime,
            floor: previous.severity, previous: previous)
        record.incident = previous.incident
        stampIncident(&record)
        return record
    }

    private func makeAlert(
        _ f: Finding, id: String, action: AlertAction, at now: EventTime, firstEventTime: EventTime, floor: Severity,
        previous: Alert?
    ) -> Alert {
        var alert = Alert(
            id: id, action: action, kind: f.kind.rawValue, severity: max(f.severity, floor), score: f.score,
            eventTime: now,
            firstEventTime: min(firstEventTime, f.firstEventTime), accounts: f.accounts,
            accountsTotal: f.accountsTotal, template: f.template, evidence: f.recordEvidence, reasons: f.reasons)
        alert.added = previous.map { alert.additions(since: $0) }
        return alert
    }
}
