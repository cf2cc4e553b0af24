public import SendWatchCore
internal import SendWatchEval

/// Builds the HTML report: reads alert records (and optionally send events) one at a time, then renders one
/// self-contained page.
///
/// Feed every alert record first (``add(line:)`` or ``add(_:)``), then, optionally, the send events of the logs
/// the alerts came from (``add(event:)``): only events of accounts named in an alert are kept, so the alerts must
/// come first. Then call ``render(into:source:)``. Memory is bounded by ``ReportLimits`` whatever the input's
/// size; output depends only on the input and the limits (no clock, no randomness), so the same input gives the
/// same bytes.
///
/// Usage:
/// ```swift
/// var builder = ReportBuilder()
/// for line in alertLines { try builder.add(line: line) }
/// for event in events { builder.add(event: event) }
/// var html = ""
/// builder.render(into: &html, source: ReportSource(alerts: "alerts.jsonl"))
/// ```
public struct ReportBuilder: Sendable {
    /// The bounds this report keeps to.
    public let limits: ReportLimits

    var incidents: [Incident] = []
    var incidentIndex: [String: Int] = [:]
    var activity: [String: AccountActivity] = [:]
    var knownArtefacts: Set<Indicators.Artefact> = []
    var subjectCache: [String: [Indicators.Artefact]] = [:]

    /// Lines read by ``add(line:)``, including bad ones.
    public private(set) var lines = 0
    /// Alert records folded in.
    public private(set) var records = 0
    /// Lines that were not alert records (v 1 to 5).
    public private(set) var badLines = 0
    /// The first few bad lines: line number and what is wrong.
    public private(set) var badLineSamples: [(line: Int, problem: String)] = []
    /// Records of incidents beyond ``ReportLimits/maxIncidents``.
    public private(set) var recordsNotKept = 0
    /// Events passed to ``add(event:)``.
    public private(set) var events = 0
    /// Events of accounts named in an alert (and tracked).
    public private(set) var eventsOfAlertedAccounts = 0
    /// Times an account named in an alert was not tracked for events (beyond ``ReportLimits/maxAccounts``);
    /// an account in several incidents counts once per incident.
    public private(set) var accountsNotTracked = 0
    /// Artefact links not kept because an account or the whole report hit its artefact cap.
    public private(set) var artefactLinksNotKept = 0
    /// Whether events were given at all (``add(event:)`` called or ``noteEventsRead()``).
    public private(set) var hasEvents = false

    /// Makes an empty report with `limits`.
    public init(limits: ReportLimits = ReportLimits()) {
        self.limits = limits
    }

    /// Reads one line of an alert file (without its newline); empty lines are skipped.
    ///
    /// A line that is not an alert record (v 1 to 5) is counted (``badLines``) and skipped.
    ///
    /// - Throws: ``ReportError`` when the record has a schema version other than 1 to 5: every later number would
    ///   be meaningless.
    /// - Complexity: O(n) in the line length.
    public mutating func add(line: some Collection<UInt8>) throws(ReportError) {
        lines += 1
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
            return
        }
        switch ReportAlert.parse(line: line) {
        case .success(let alert):
            add(alert)
        case .failure(.unsupportedVersion(let v)):
            throw ReportError(
                code: .unsupportedVersion,
                message:
                    "line \(lines): alert schema version \(v.prefix(20)) is not supported (this report reads v 1 to 5)"
            )
        case .failure(.malformed(let problem)):
            badLines += 1
            if badLineSamples.count < 5 { badLineSamples.append((lines, String(problem.prefix(200)))) }
        }
    }

    /// Refuses an alert input of which not one line is an alert record: OCSF output (`--alert-format ocsf`),
    /// another tool's JSON or a binary file would otherwise make an empty page that reads as "nothing
    /// detected". An input without lines (nothing was detected) is usable.
    ///
    /// - Throws: ``ReportError`` `no_usable_alerts` when there were non-blank lines and none was a record,
    ///   naming the first bad lines.
    public func checkUsable() throws(ReportError) {
        guard records == 0 && badLines > 0 else { return }
        let examples = badLineSamples.prefix(2).map { "line \($0.line): \($0.problem)" }.joined(separator: "; ")
        throw ReportError(
            code: .noUsableAlerts,
            message:
                "none of the \(badLines) non-blank lines is a SendWatch alert record (v 1 to 5) (\(examples)); "
                + "the report reads the output of 'sendwatch replay' or 'tail' with the default --alert-format "
                + "sendwatch, not OCSF records")
    }

    /// Folds one alert record into its incident (its `incident`, or for records before schema v3 its `id`).
    ///
    /// A record that names incidents merged into its own (`merged_incidents`, schema v5) first folds those
    /// incidents into one, under its `incident` id: a merged campaign is one incident on the page whatever the
    /// order its records come in, and records of the merged ids that come later join it too.
    ///
    /// - Complexity: O(a) in the record's accounts and list items, amortised; a merge costs O(incidents kept).
    public mutating func add(_ alert: ReportAlert) {
        records += 1
        if !alert.mergedIncidents.isEmpty { mergeIncidents(into: alert.incident, alert.mergedIncidents) }
        let i: Int
        if let known = incidentIndex[alert.incident] {
            i = known
        } else {
            guard incidents.count < limits.maxIncidents else {
                recordsNotKept += 1
                return
            }
            i = incidents.count
            incidentIndex[alert.incident] = i
            incidents.append(Incident(first: alert, order: i))
        }
        // Later records of the merged ids belong here too (they were written before the merge reached them).
        for id in alert.mergedIncidents where incidentIndex[id] == nil { incidentIndex[id] = i }
        let added = incidents[i].add(alert, limits: limits)
        for account in incidents[i].accounts.suffix(added) where activity[account] == nil {
            if activity.count < limits.maxAccounts {
                activity[account] = AccountActivity()
            } else {
                accountsNotTracked += 1
            }
        }
    }

    /// Folds the kept incidents of `merged` and `target` into one with the id `target`, and points every id of
    /// theirs at it.
    mutating func mergeIncidents(into target: String, _ merged: [String]) {
        var found: [Int] = []
        for id in [target] + merged {
            if let i = incidentIndex[id], !found.contains(i) { found.append(i) }
        }
        guard let keep = found.min() else { return }
        let gone = found.filter { $0 != keep }.sorted()
        for j in gone { incidents[keep].absorb(incidents[j], limits: limits) }
        incidents[keep].id = target
        for j in gone.reversed() { incidents.remove(at: j) }
        func shifted(_ i: Int) -> Int { i - gone.filter { $0 < i }.count }
        let newKeep = shifted(keep)
        for (id, i) in incidentIndex { incidentIndex[id] = gone.contains(i) ? newKeep : shifted(i) }
        incidentIndex[target] = newKeep
    }

    /// Records that events were read, even if none matched (so the page says "no events" rather than nothing).
    public mutating func noteEventsRead() { hasEvents = true }

    /// Folds one send event in: first and last send, recipient domain and subject artefacts of its account, if
    /// that account is named in an alert.
    ///
    /// - Complexity: O(1) for events of other accounts; O(s) in the subject length for a subject not seen
    ///   before (later ones hit a cache of ``ReportLimits/maxCachedSubjects`` subjects).
    public mutating func add(event: SendEvent) {
        hasEvents = true
        events += 1
        guard activity[event.account] != nil else { return }
        eventsOfAlertedAccounts += 1
        let artefacts = event.subject.map { cachedArtefacts(in: $0) } ?? []
        let domain = Self.domain(of: event.recipient)
        // Optional chaining on the subscript mutates the entry in place (no copy of its tables).
        guard
            let recorded = activity[event.account]?.record(
                event, domain: domain, artefacts: artefacts, limits: limits)
        else { return }
        var linksNotKept = recorded.notKept
        for artefact in recorded.new where !knownArtefacts.contains(artefact) {
            if knownArtefacts.count < limits.maxArtefacts {
                knownArtefacts.insert(artefact)
            } else {
                activity[event.account]?.artefacts[artefact] = nil
                linksNotKept += 1
            }
        }
        artefactLinksNotKept += linksNotKept
    }

    private mutating func cachedArtefacts(in subject: String) -> [Indicators.Artefact] {
        if let hit = subjectCache[subject] { return hit }
        let found = Indicators.artefacts(in: subject)
        if subjectCache.count < limits.maxCachedSubjects { subjectCache[subject] = found }
        return found
    }

    /// The lower-cased domain of an address, or nil when it has no `@` or an implausible domain.
    static func domain(of address: String) -> String? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let d = address[address.index(after: at)...]
        guard !d.isEmpty, d.utf8.count <= 253 else { return nil }
        return d.lowercased()
    }
}

/// Where the report's input came from, printed in its header.
public struct ReportSource: Sendable, Equatable {
    /// The alert file's name as given.
    public var alerts: String
    /// The log files given with `--events`, in order.
    public var events: [String]

    /// Names the inputs.
    public init(alerts: String, events: [String] = []) {
        self.alerts = alerts
        self.events = events
    }
}

/// Why a report cannot be made: a code and a sentence saying what is wrong and where.
public typealias ReportError = CodedError<ReportFailure>

/// The domain of ``ReportError``'s codes.
public enum ReportFailure {}

extension ErrorCode where Domain == ReportError {
    /// An alert record has a `v` other than 1 to 5.
    public static var unsupportedVersion: Self { Self("unsupported_version") }
    /// The alert input has lines but not one of them is an alert record (v 1 to 5): OCSF output, another
    /// tool's JSON, a binary file.
    public static var noUsableAlerts: Self { Self("no_usable_alerts") }
}
