public import SendWatchAlerts
public import SendWatchCore
public import SendWatchDetect
import SendWatchFormats

/// Feeds events to the detection engine and writes the alerts it emits (`sendwatch replay`).
///
/// The alerts of each batch of events go through an ``AlertWriter`` (the path `tail` writes through too) into
/// the sink; ``OutputWriter`` buffers them and writes when its buffer is full and at ``flush()``. After the
/// first failed write no more alerts are written (they are still counted): the run goes on to its summary and
/// the command exits 2 with ``outputFailure``.
public struct DetectionSink: EventSink {
    /// The engine; read its counters after the run.
    public private(set) var engine: DetectionEngine
    private var alerts: AlertWriter
    private var pending: [Alert] = []
    /// Alert records written.
    public private(set) var alertsWritten = 0
    /// Alert records per kind.
    public private(set) var alertsByKind: [String: Int] = [:]
    /// The first failure of the output; nothing was written after it.
    public private(set) var outputFailure: OutputError?
    /// Events that carried a subject or a template id (``SubjectCount/counts(_:)``), for
    /// ``RunSummary/eventsWithSubject``.
    public private(set) var eventsWithSubject = 0

    /// Creates the sink.
    ///
    /// - Parameters:
    ///   - output: where the alert records go.
    ///   - format: the record format. Default ``AlertFormat/sendwatch`` (schema version 2).
    ///   - productVersion: the SendWatch version, for formats that name the product (OCSF).
    public init(
        engine: DetectionEngine, output: any AlertSink, format: AlertFormat = .sendwatch,
        productVersion: String = "0.1.0"
    ) {
        self.engine = engine
        self.alerts = AlertWriter(encoder: format.makeEncoder(productVersion: productVersion), sink: output)
    }

    public mutating func accept(_ batch: inout EventBatch) {
        eventsWithSubject += SubjectCount.count(in: batch)
        engine.process(&batch, into: &pending)
        if !pending.isEmpty { write() }
    }

    public mutating func flush() {
        if !pending.isEmpty { write() }
        outputFailure = .first(outputFailure) { () throws(OutputError) in try alerts.flush() }
    }

    /// Closes the alerts whose cooldown has passed at the last event's time; call once at the end of input.
    public mutating func finish() {
        engine.finish(into: &pending)
        flush()
    }

    private mutating func write() {
        for alert in pending { alertsByKind[alert.kind, default: 0] += 1 }
        alertsWritten += pending.count
        outputFailure = .first(outputFailure) { () throws(OutputError) in try alerts.write(pending) }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Reads an account registry: one `account,created_at` per line (RFC 3339 or epoch seconds), `#` comments and
/// an optional header line allowed.
public enum AccountRegistry {
    /// A registry line that could not be used.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses registry text into (account, creation time) pairs; bad lines are returned as problems.
    public static func parse(_ text: String) -> (entries: [(String, EventTime)], problems: [Problem]) {
        var entries: [(String, EventTime)] = []
        var problems: [Problem] = []
        var number = 0
        // `isNewline` also takes "\r\n", which Swift reads as one character.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            let trimmed = line.trimmingCharacters(in: " \t")
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let comma = trimmed.lastIndex(of: ",") else {
                problems.append(Problem(line: number, message: "expected account,created_at"))
                continue
            }
            let account = trimmed[..<comma].trimmingCharacters(in: " \t\"")
            let when = trimmed[trimmed.index(after: comma)...].trimmingCharacters(in: " \t\"")
            if number == 1 && (when == "created_at" || when == "created") { continue }
            guard !account.isEmpty, let time = parseTime(when) else {
                problems.append(Problem(line: number, message: "'\(when)' is not an RFC 3339 time or epoch seconds"))
                continue
            }
            entries.append((account, time))
        }
        return (entries, problems)
    }

    static func parseTime(_ text: String) -> EventTime? {
        if let seconds = Int64(text) { return EventTime(seconds: seconds) }
        var zone = LocalTimeZone.utc
        return Array(text.utf8).withUnsafeBytes { raw -> EventTime? in
            guard let (t, end) = Timestamps.readDateTime(raw, at: 0, zone: &zone) else { return nil }
            return end == raw.count ? t : nil
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension DetectionEngine {
    /// A warning when every event of the run lies within the warm-up (``AccountAges/Configuration/warmupSeconds``
    /// from the first event) and none came from a young account: every account was first seen in the warm-up and
    /// counted as established, so the young-account rules never ran and the run's "0 alert records" says nothing
    /// about the log. It names the span, the warm-up and the ways out (`--warmup 0`, creation times). `nil`
    /// otherwise: no event, a warm-up of 0, a span that reaches past the warm-up, or any young account's event.
    public func warmupWarning(_ configuration: DetectionConfiguration) -> String? {
        let warmup = configuration.ages.warmupSeconds
        guard warmup > 0, counters.events > 0, counters.youngEvents == 0, let start = ages.streamStart,
            let end = watermark, !ages.warmupEnded(at: end)
        else { return nil }
        let span = max(0, end.seconds - start.seconds)
        let n = counters.events
        var s = "sendwatch: warning: the \(n) event\(n == 1 ? "" : "s") of the input "
        s += "\(n == 1 ? "spans" : "span") \(Self.spanText(span)) of "
        s += "event time, all within the warm-up (\(DurationText.format(warmup)) from the first event), so every "
        s += "account counted as established and the young-account rules never ran. For a log this short give "
        s += "--warmup 0 (accounts are then young from their first event), or the accounts' creation times "
        s += "(--accounts FILE, or account_created in JSON lines)"
        return s
    }

    /// `span` seconds as whole minutes from 2 minutes on (`14m`), else seconds (`95s`).
    private static func spanText(_ span: Int64) -> String {
        span >= 120 ? "\(span / 60)m" : "\(span)s"
    }
}

extension DetectionCounters {
    /// Dropped events below this share of all events that reached detection are not warned about (1 %): a
    /// few late lines are normal (a writer that flushes late, logs merged from several files).
    public static let droppedWarningShare = 0.01
    /// Dropped events below this count are not warned about: 100.
    public static let droppedWarningMinimum = 100

    /// The warnings a run's end prints when a large share of its events was dropped for its time: as late, or
    /// as time outliers. Each names the count, the share and the likely cause; empty when neither count is at
    /// least ``droppedWarningMinimum`` and ``droppedWarningShare`` of the events that reached detection.
    ///
    /// - Parameter configuration: the detection settings of the run (the lateness and jump bounds named).
    public func droppedTimeWarnings(_ configuration: DetectionConfiguration) -> [String] {
        let total = events + lateEvents + timeOutliers
        func large(_ n: Int) -> Bool {
            n >= Self.droppedWarningMinimum && Double(n) >= Double(total) * Self.droppedWarningShare
        }
        func share(_ n: Int) -> String {
            let percent = Double(n) * 100 / Double(max(1, total))
            return percent >= 1 ? "\(Int(percent.rounded())) %" : "under 1 %"
        }
        var out: [String] = []
        if large(lateEvents) {
            out.append(
                "sendwatch: warning: \(lateEvents) of \(total) events (\(share(lateEvents))) were dropped as late "
                    + "(more than \(DurationText.format(configuration.allowedLatenessSeconds)) behind the newest "
                    + "event), so detection did not see them. Likely cause: lines not in time order within one log "
                    + "(logs of several hosts or days concatenated into one input; separate inputs are merged by "
                    + "time, and rotated files of one log are read oldest first), a clock that stepped back, or local "
                    + "times read in another zone than the log's, whose daylight saving changes differ (see --timezone)."
            )
        }
        if large(timeOutliers) {
            out.append(
                "sendwatch: warning: \(timeOutliers) of \(total) events (\(share(timeOutliers))) were set aside as "
                    + "time outliers (more than \(DurationText.format(configuration.maxTimeJumpSeconds)) ahead of "
                    + "event time, with no sustained run of one host confirming the step), so detection did not "
                    + "see them. Likely cause: a host whose clock is wrong, or timestamps in another time zone "
                    + "(see --timezone).")
        }
        return out
    }
}
