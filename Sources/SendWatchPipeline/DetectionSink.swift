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
                    + "time, and rotated files of one log are read oldest first), or a clock that stepped back.")
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
