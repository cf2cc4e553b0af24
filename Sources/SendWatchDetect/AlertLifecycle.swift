public import SendWatchCore

/// Turns detector findings into alert records: one alert per ongoing incident, with updates as it grows and a
/// close once it has been quiet, instead of a flood of repeats.
///
/// - A finding for a (kind, key) with no open alert **creates** one. Its id is a fixed hash of kind, key and the
///   finding's first event time, so the same input always gives the same ids.
/// - Further findings for an open alert emit an **update** only when the alert grew: a higher severity; at
///   least ``Configuration/growthFactor`` times the accounts or the volume of the last record; or anything
///   larger after ``Configuration/minUpdateIntervalSeconds`` of event time since the last record. Otherwise they
///   only keep the alert open.
/// - An alert with no finding for ``Configuration/cooldownSeconds`` of event time is **closed** by
///   ``advance(to:)``; a later finding for the same key opens a new alert with a new id.
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
        /// Most alerts open at once. Default 10,000.
        public var maxOpenAlerts: Int

        public init(
            cooldownSeconds: Int64 = 1800, minUpdateIntervalSeconds: Int64 = 600, growthFactor: Double = 2,
            maxOpenAlerts: Int = 10_000
        ) {
            self.cooldownSeconds = cooldownSeconds
            self.minUpdateIntervalSeconds = minUpdateIntervalSeconds
            self.growthFactor = growthFactor
            self.maxOpenAlerts = maxOpenAlerts
        }
    }

    struct OpenAlert: Sendable {
        var last: Alert
        var lastVolume: Int
        var lastFinding: EventTime
        /// The newest finding not yet emitted (kept so that the close record carries the final figures).
        var pending: Finding?
    }

    public let configuration: Configuration
    private var open: [String: OpenAlert] = [:]
    /// Alerts closed early because ``Configuration/maxOpenAlerts`` was reached.
    public private(set) var closedEarly = 0

    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// The number of open alerts.
    public var openCount: Int { open.count }

    /// Takes a finding at event time `now`; returns the record to emit, if any.
    ///
    /// - Complexity: O(1) expected, plus O(open alerts) when the table is full.
    public mutating func take(_ finding: Finding, at now: EventTime) -> [Alert] {
        let slotKey = finding.kind + "\u{0}" + finding.key
        var out: [Alert] = []
        if var current = open[slotKey] {
            current.lastFinding = now
            let last = current.last
            let grown =
                finding.severity > last.severity
                || Double(finding.accountsTotal) >= Double(max(1, last.accountsTotal)) * configuration.growthFactor
                || Double(finding.volume) >= Double(max(1, current.lastVolume)) * configuration.growthFactor
            let changed = finding.accountsTotal > last.accountsTotal || finding.volume > current.lastVolume
                || finding.severity > last.severity
            let waited = now.microseconds - last.eventTime.microseconds
                >= configuration.minUpdateIntervalSeconds * 1_000_000
            if grown || (changed && waited) {
                let record = makeAlert(finding, id: last.id, action: .update, at: now,
                                       firstEventTime: last.firstEventTime, floor: last.severity)
                current.last = record
                current.lastVolume = finding.volume
                current.pending = nil
                out.append(record)
            } else if changed {
                current.pending = finding
            }
            open[slotKey] = current
            return out
        }
        if open.count >= configuration.maxOpenAlerts {
            out.append(contentsOf: closeQuietest())
        }
        var h = StableHash()
        h.combine(finding.kind)
        h.combine(finding.key)
        h.combine(finding.firstEventTime.microseconds)
        let record = makeAlert(finding, id: "sw-" + h.hex, action: .create, at: now,
                               firstEventTime: finding.firstEventTime, floor: .low)
        open[slotKey] = OpenAlert(last: record, lastVolume: finding.volume, lastFinding: now, pending: nil)
        out.append(record)
        return out
    }

    /// Closes the alerts quiet for the cooldown at event time `now`, in a stable order (first event time, id).
    public mutating func advance(to now: EventTime) -> [Alert] {
        let limit = configuration.cooldownSeconds * 1_000_000
        var due: [(String, OpenAlert)] = []
        for (k, a) in open where now.microseconds - a.lastFinding.microseconds >= limit {
            due.append((k, a))
        }
        guard !due.isEmpty else { return [] }
        due.sort { ($0.1.last.firstEventTime, $0.1.last.id) < ($1.1.last.firstEventTime, $1.1.last.id) }
        var out: [Alert] = []
        for (k, a) in due {
            open[k] = nil
            out.append(closeRecord(a, at: EventTime(microseconds: a.lastFinding.microseconds + limit)))
        }
        return out
    }

    /// Emits an `update` for every open alert whose newest evidence has not been reported yet (the end of a
    /// replay: the last accounts and counts would otherwise only appear in a `close` record that never comes).
    /// Stable order (first event time, id). The alerts stay open.
    public mutating func flushPending(at now: EventTime) -> [Alert] {
        var due: [(String, OpenAlert)] = []
        for (k, a) in open where a.pending != nil { due.append((k, a)) }
        guard !due.isEmpty else { return [] }
        due.sort { ($0.1.last.firstEventTime, $0.1.last.id) < ($1.1.last.firstEventTime, $1.1.last.id) }
        var out: [Alert] = []
        for (k, var a) in due {
            guard let pending = a.pending else { continue }
            let record = makeAlert(pending, id: a.last.id, action: .update, at: max(now, a.lastFinding),
                                   firstEventTime: a.last.firstEventTime, floor: a.last.severity)
            a.last = record
            a.lastVolume = pending.volume
            a.pending = nil
            open[k] = a
            out.append(record)
        }
        return out
    }

    private mutating func closeQuietest() -> [Alert] {
        guard let victim = open.min(by: { ($0.value.lastFinding, $0.value.last.id) < ($1.value.lastFinding, $1.value.last.id) })
        else { return [] }
        open[victim.key] = nil
        closedEarly += 1
        return [closeRecord(victim.value, at: victim.value.lastFinding)]
    }

    private func closeRecord(_ a: OpenAlert, at time: EventTime) -> Alert {
        var record: Alert
        if let pending = a.pending {
            record = makeAlert(pending, id: a.last.id, action: .close, at: time,
                               firstEventTime: a.last.firstEventTime, floor: a.last.severity)
        } else {
            record = a.last
            record.action = .close
            record.eventTime = time
        }
        record.reasons.append("No new evidence for \(configuration.cooldownSeconds / 60) minutes: closed.")
        return record
    }

    private func makeAlert(
        _ f: Finding, id: String, action: AlertAction, at now: EventTime, firstEventTime: EventTime, floor: Severity
    ) -> Alert {
        Alert(
            id: id, action: action, kind: f.kind, severity: max(f.severity, floor), score: f.score, eventTime: now,
            firstEventTime: min(firstEventTime, f.firstEventTime), accounts: f.accounts,
            accountsTotal: f.accountsTotal, template: f.template, evidence: f.evidence, reasons: f.reasons)
    }
}
