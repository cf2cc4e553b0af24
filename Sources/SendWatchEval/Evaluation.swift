public import SendWatchCore

/// Scores a stream of SendWatch alert records against ``Labels``.
///
/// Feed the alert file as raw chunks (``consume(_:)``), as lines (``add(line:)``) or as parsed records
/// (``add(_:)``), then call ``finish()`` for the ``EvaluationReport``. Every metric is defined in
/// ``EvaluationReport``. Records are taken in any order; nothing depends on the order of the lines except the
/// line numbers of bad lines.
///
/// Usage:
/// ```swift
/// var evaluation = Evaluation(labels: try Labels.parse(labelBytes))
/// try evaluation.consume(chunk)          // repeatedly
/// let report = try evaluation.finish()
/// print(report.text())
/// ```
///
/// Memory is bounded by ``Limits``: the flagged accounts, the alert ids and the pending partial line each
/// have a cap. At a cap, new accounts or ids are no longer tracked; the records involved are counted and the
/// report carries a warning that the figures are incomplete.
public struct Evaluation: Sendable {
    /// Caps on what an evaluation keeps.
    public struct Limits: Sendable, Hashable {
        /// Longest alert line read, in bytes; a longer line is a bad line (`line_too_long`). Default 1 MiB.
        public var maxLineBytes: Int
        /// Distinct accounts kept (flagged after the warm-up, plus those seen in warm-up). Default 1,000,000.
        public var maxTrackedAccounts: Int
        /// Distinct alert ids kept. Default 1,000,000.
        public var maxTrackedAlerts: Int
        /// Bad lines whose number and reason are kept for the report. Default 20.
        public var maxBadLineExamples: Int

        public init(
            maxLineBytes: Int = 1 << 20, maxTrackedAccounts: Int = 1_000_000, maxTrackedAlerts: Int = 1_000_000,
            maxBadLineExamples: Int = 20
        ) {
            self.maxLineBytes = maxLineBytes
            self.maxTrackedAccounts = maxTrackedAccounts
            self.maxTrackedAlerts = maxTrackedAlerts
            self.maxBadLineExamples = maxBadLineExamples
        }
    }

    private struct AccountLabel: Sendable {
        var abusive = false
        var incidents: [Int] = []
        var lookAlikes: [Int] = []
    }

    private struct FirstHit: Sendable {
        var time: EventTime
        var alertID: String
        var alertKind: String
    }

    public let labels: Labels
    public let limits: Limits

    private var accountLabels: [String: AccountLabel] = [:]
    private var flagged: Set<String> = []
    private var warmupAccounts: Set<String> = []
    /// Scored alert id -> whether any of its scored records lists an abusive account.
    private var scoredAlerts: [String: Bool] = [:]
    private var warmupAlerts: Set<String> = []
    private var firstHits: [FirstHit?]
    private var lastEventTime: EventTime?
    /// SendWatch incident id -> an incident id it was merged with (`merged_incidents`), a union-find forest
    /// with path halving; at most ``Limits/maxTrackedAlerts`` ids.
    private var incidentParent: [String: String] = [:]
    /// Per labelled incident: the SendWatch incident ids of the scored records that list its accounts, of
    /// campaign alerts and of aggregate alerts (``AlertRecord/aggregate``) apart; at most
    /// ``Limits/maxTrackedAlerts`` ids over all labelled incidents.
    private var incidentIDs: [Set<String>]
    private var aggregateIncidentIDs: [Set<String>]
    private var trackedIncidentIDs = 0

    private var lines = 0
    private var records = 0
    private var scoredRecords = 0
    private var warmupRecords = 0
    private var badLines = 0
    private var badLineExamples: [EvaluationReport.BadLine] = []
    private var untrackedAccountRecords = 0
    private var untrackedAlertRecords = 0
    private var untrackedIncidentRecords = 0

    private var pending: [UInt8] = []
    private var discardingLongLine = false

    public init(labels: Labels, limits: Limits = Limits()) {
        self.labels = labels
        self.limits = limits
        firstHits = Array(repeating: nil, count: labels.incidents.count)
        incidentIDs = Array(repeating: [], count: labels.incidents.count)
        aggregateIncidentIDs = incidentIDs
        for a in labels.abusiveAccounts { accountLabels[a, default: AccountLabel()].abusive = true }
        for (i, incident) in labels.incidents.enumerated() {
            for a in incident.accounts { accountLabels[a, default: AccountLabel()].incidents.append(i) }
        }
        for (i, group) in labels.hardNegatives.enumerated() {
            for a in group.accounts { accountLabels[a, default: AccountLabel()].lookAlikes.append(i) }
        }
    }

    /// Adds a chunk of the alert file; lines may span chunks.
    ///
    /// - Throws: ``EvaluationError`` (`unsupportedAlertVersion`) for a record with `v` other than 1.
    /// - Complexity: O(n) in the chunk's length plus one JSON parse per complete line.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer) throws(EvaluationError) {
        var start = 0
        while start < chunk.count {
            guard let nl = chunk[start...].firstIndex(of: 0x0A) else {
                appendPending(UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return
            }
            appendPending(UnsafeRawBufferPointer(rebasing: chunk[start..<nl]))
            try endLine()
            start = nl + 1
        }
    }

    /// Adds a chunk of the alert file given as an array.
    public mutating func consume(_ bytes: [UInt8]) throws(EvaluationError) {
        var failure: EvaluationError?
        bytes.withUnsafeBytes { buffer in
            do throws(EvaluationError) { try consume(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private mutating func appendPending(_ bytes: UnsafeRawBufferPointer) {
        guard !discardingLongLine else { return }
        if pending.count + bytes.count > limits.maxLineBytes {
            discardingLongLine = true
            pending.removeAll(keepingCapacity: false)
            return
        }
        pending.append(contentsOf: bytes)
    }

    private mutating func endLine() throws(EvaluationError) {
        defer {
            pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
            discardingLongLine = false
        }
        if discardingLongLine {
            lines += 1
            noteBadLine(lines, "line_too_long: longer than \(limits.maxLineBytes) bytes")
            return
        }
        try add(line: pending)
    }

    /// Adds one line of the alert file (without its newline; a trailing CR is ignored). Blank lines are
    /// counted as lines and otherwise skipped; a line that is not a valid record is a counted bad line.
    ///
    /// - Throws: ``EvaluationError`` (`unsupportedAlertVersion`) for a record with `v` other than 1.
    public mutating func add(line: some Collection<UInt8>) throws(EvaluationError) {
        lines += 1
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        guard line.count <= limits.maxLineBytes else {
            noteBadLine(lines, "line_too_long: longer than \(limits.maxLineBytes) bytes")
            return
        }
        switch AlertRecord.parse(line: line) {
        case .success(let record):
            add(record)
        case .failure(.malformed(let reason)):
            noteBadLine(lines, reason)
        case .failure(.unsupportedVersion(let v)):
            throw EvaluationError(
                code: .unsupportedAlertVersion,
                message:
                    "alerts line \(lines): alert schema version \(v) is not supported (this scorer reads v \(AlertRecord.versionsText))"
            )
        }
    }

    private mutating func noteBadLine(_ line: Int, _ reason: String) {
        badLines += 1
        if badLineExamples.count < limits.maxBadLineExamples {
            badLineExamples.append(EvaluationReport.BadLine(line: line, reason: String(reason.prefix(160))))
        }
    }

    /// Adds one parsed alert record.
    ///
    /// - Complexity: O(a) dictionary lookups for the record's a listed accounts.
    public mutating func add(_ record: AlertRecord) {
        records += 1
        for merged in record.mergedIncidents { unite(merged, record.incident) }
        if lastEventTime.map({ record.eventTime > $0 }) ?? true { lastEventTime = record.eventTime }
        guard record.eventTime >= labels.warmupEnd else {
            warmupRecords += 1
            if !warmupAlerts.contains(record.id) {
                if warmupAlerts.count < limits.maxTrackedAlerts {
                    warmupAlerts.insert(record.id)
                } else {
                    untrackedAlertRecords += 1
                }
            }
            var missed = false
            for a in record.accounts where !warmupAccounts.contains(a) {
                if warmupAccounts.count < limits.maxTrackedAccounts { warmupAccounts.insert(a) } else { missed = true }
            }
            if missed { untrackedAccountRecords += 1 }
            return
        }
        scoredRecords += 1
        var listsAbusive = false
        var missed = false
        for a in record.accounts {
            if !flagged.contains(a) {
                if flagged.count < limits.maxTrackedAccounts { flagged.insert(a) } else { missed = true }
            }
            guard let label = accountLabels[a] else { continue }
            if label.abusive { listsAbusive = true }
            for i in label.incidents {
                let known =
                    record.aggregate
                    ? aggregateIncidentIDs[i].contains(record.incident) : incidentIDs[i].contains(record.incident)
                if !known {
                    if trackedIncidentIDs < limits.maxTrackedAlerts {
                        if record.aggregate {
                            aggregateIncidentIDs[i].insert(record.incident)
                        } else {
                            incidentIDs[i].insert(record.incident)
                        }
                        trackedIncidentIDs += 1
                    } else {
                        untrackedIncidentRecords += 1
                    }
                }
                if firstHits[i].map({ record.eventTime < $0.time }) ?? true {
                    firstHits[i] = FirstHit(time: record.eventTime, alertID: record.id, alertKind: record.kind)
                }
            }
        }
        if missed { untrackedAccountRecords += 1 }
        if let seen = scoredAlerts[record.id] {
            if listsAbusive && !seen { scoredAlerts[record.id] = true }
        } else if scoredAlerts.count < limits.maxTrackedAlerts {
            scoredAlerts[record.id] = listsAbusive
        } else {
            untrackedAlertRecords += 1
        }
    }

    /// Records that `a` and `b` are one SendWatch incident.
    private mutating func unite(_ a: String, _ b: String) {
        let ra = Self.root(a, in: &incidentParent)
        let rb = Self.root(b, in: &incidentParent)
        guard ra != rb else { return }
        guard incidentParent.count < limits.maxTrackedAlerts else {
            untrackedIncidentRecords += 1
            return
        }
        incidentParent[ra] = rb
    }

    /// The representative of `id`'s merged incident, halving the path on the way.
    private static func root(_ id: String, in parent: inout [String: String]) -> String {
        var x = id
        while let p = parent[x] {
            if let grand = parent[p] { parent[x] = grand }
            x = parent[x] ?? p
        }
        return x
    }

    /// Ends the input (a last line without a newline is read) and computes the report.
    ///
    /// Input without any line (an empty file: the detector found nothing) is scored as no detections. Input
    /// with lines of which not one is an alert record is refused: OCSF output, another tool's JSON or a binary
    /// file would otherwise score as "nothing detected".
    ///
    /// - Throws: ``EvaluationError`` if the last line has an unsupported schema version (`unsupportedAlertVersion`),
    ///   or if there were non-blank lines and none was a record (`noUsableAlerts`, naming the first bad lines).
    /// - Complexity: O(F log F + L) for F flagged accounts and L labelled accounts.
    public mutating func finish() throws(EvaluationError) -> EvaluationReport {
        if !pending.isEmpty || discardingLongLine { try endLine() }
        if records == 0 && badLines > 0 {
            let examples = badLineExamples.prefix(2).map { "line \($0.line): \($0.reason)" }.joined(separator: "; ")
            throw EvaluationError(
                code: .noUsableAlerts,
                message:
                    "none of the \(badLines) non-blank lines is a SendWatch alert record (v \(AlertRecord.versionsText)) (\(examples)); "
                    + "score the output of 'sendwatch replay' with the default --alert-format sendwatch")
        }
        return makeReport()
    }

    private func makeReport() -> EvaluationReport {
        var r = EvaluationReport(labels: labels)
        r.lines = lines
        r.records = records
        r.badLines = badLines
        r.badLineExamples = badLineExamples
        r.warmupRecords = warmupRecords
        r.warmupAlerts = warmupAlerts.count
        r.warmupAccounts = warmupAccounts.count
        r.warmupAbusiveAccounts = warmupAccounts.filter { accountLabels[$0]?.abusive == true }.count
        r.scoredRecords = scoredRecords
        r.scoredAlerts = scoredAlerts.count

        // Accounts.
        let abusive = Set(labels.abusiveAccounts)
        let truePositive = flagged.filter { abusive.contains($0) }.count
        r.flaggedAccounts = flagged.count
        r.abusiveAccounts = abusive.count
        r.truePositiveAccounts = truePositive
        r.precision = Evaluation.ratio(truePositive, flagged.count, emptyBoth: abusive.isEmpty)
        r.recall = Evaluation.ratio(truePositive, abusive.count, emptyBoth: flagged.isEmpty)

        // Incidents.
        var latenciesByKind: [String: (total: Int, latencies: [Double])] = [:]
        var allLatencies: [Double] = []
        for (i, incident) in labels.incidents.enumerated() {
            var result = EvaluationReport.IncidentResult(
                id: incident.id, kind: incident.kind, accounts: incident.accounts.count,
                accountsFlagged: incident.accounts.filter { flagged.contains($0) }.count, start: incident.start)
            var entry = latenciesByKind[incident.kind, default: (0, [])]
            entry.total += 1
            if let hit = firstHits[i] {
                let latency = Double(hit.time.microseconds - incident.start.microseconds) / 1_000_000
                result.firstAlertTime = hit.time
                result.latencySeconds = latency
                result.firstAlertID = hit.alertID
                result.firstAlertKind = hit.alertKind
                entry.latencies.append(latency)
                allLatencies.append(latency)
            }
            latenciesByKind[incident.kind] = entry
            r.incidents.append(result)
        }
        r.latencyByKind = latenciesByKind.keys.sorted().map { kind in
            // Safe to force unwrap: `kind` is one of the dictionary's own keys.
            let e = latenciesByKind[kind]!
            return EvaluationReport.KindLatency(
                kind: kind, incidents: e.total, detected: e.latencies.count,
                medianLatencySeconds: Evaluation.median(e.latencies))
        }
        r.medianLatencySeconds = Evaluation.median(allLatencies)

        // Fragmentation: SendWatch incidents per labelled incident, after joining merged ids.
        var parent = incidentParent
        var owners: [String: [Int]] = [:]
        for i in r.incidents.indices {
            // An aggregate alert's incident counts only for a campaign no other alert names.
            let ids = incidentIDs[i].isEmpty ? aggregateIncidentIDs[i] : incidentIDs[i]
            let roots = Set(ids.map { Self.root($0, in: &parent) })
            r.incidents[i].sendWatchIncidents = roots.count
            for root in roots { owners[root, default: []].append(i) }
        }
        for labelled in owners.values where labelled.count > 1 {
            for i in labelled {
                for j in labelled where j != i && !r.incidents[i].sharesIncidentWith.contains(r.incidents[j].id) {
                    r.incidents[i].sharesIncidentWith.append(r.incidents[j].id)
                }
            }
        }
        for i in r.incidents.indices { r.incidents[i].sharesIncidentWith.sort() }

        // False positives.
        var lookAlikeFlagged = Set<String>()
        for group in labels.hardNegatives {
            let hits = group.accounts.filter { flagged.contains($0) && !abusive.contains($0) }
            lookAlikeFlagged.formUnion(hits)
            r.lookAlikes.append(
                EvaluationReport.LookAlikeResult(
                    id: group.id, kind: group.kind, accounts: group.accounts.count, flagged: hits.count,
                    flaggedSample: Array(hits.prefix(EvaluationReport.maxSampleAccounts))))
        }
        r.lookAlikeAccountsFlagged = lookAlikeFlagged.count
        let unlabelled = flagged.filter { !abusive.contains($0) && (accountLabels[$0]?.lookAlikes.isEmpty ?? true) }
        r.unlabelledAccountsFlagged = unlabelled.count
        r.unlabelledSample = Array(unlabelled.sorted().prefix(EvaluationReport.maxSampleAccounts))

        // Clean alerts per day.
        r.cleanAlerts = scoredAlerts.values.filter { !$0 }.count
        if let end = labels.end {
            r.durationSource = .labelsEnd
            r.durationSeconds = Double(end.microseconds - labels.warmupEnd.microseconds) / 1_000_000
        } else if let last = lastEventTime {
            r.durationSource = .lastAlert
            r.durationSeconds = Double(last.microseconds - labels.warmupEnd.microseconds) / 1_000_000
        }
        if let d = r.durationSeconds, d > 0 {
            r.cleanAlertsPerDay = Double(r.cleanAlerts) / (d / 86_400)
        }

        if untrackedAccountRecords > 0 {
            r.warnings.append(
                "account cap (\(limits.maxTrackedAccounts)) reached: \(untrackedAccountRecords) records listed "
                    + "accounts that were not tracked; account figures are incomplete")
        }
        if untrackedIncidentRecords > 0 {
            r.warnings.append(
                "incident id cap (\(limits.maxTrackedAlerts)) reached: \(untrackedIncidentRecords) records' incident "
                    + "ids not tracked; incident splits are incomplete")
        }
        if untrackedAlertRecords > 0 {
            r.warnings.append(
                "alert id cap (\(limits.maxTrackedAlerts)) reached: \(untrackedAlertRecords) records of untracked "
                    + "alert ids; alert counts are incomplete")
        }
        return r
    }

    /// `numerator / denominator`; when the denominator is 0: 1 if `emptyBoth` (nothing to find and nothing
    /// claimed), else nil (n/a).
    static func ratio(_ numerator: Int, _ denominator: Int, emptyBoth: Bool) -> Double? {
        if denominator == 0 { return emptyBoth ? 1 : nil }
        return Double(numerator) / Double(denominator)
    }

    /// The median (mean of the two middle values for an even count), nil for no values.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }
}
