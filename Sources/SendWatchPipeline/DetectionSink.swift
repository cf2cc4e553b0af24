public import SendWatchCore
public import SendWatchDetect
import SendWatchFormats

/// Feeds events to the detection engine and writes the alerts it emits (`sendwatch replay`).
///
/// Alerts are encoded as JSON lines (schema version 1) into the shared ``OutputWriter``, whose buffer is
/// written out at the end of every batch of events and at ``flush()``.
public struct DetectionSink: EventSink {
    /// How alert records are written.
    public enum Format: String, Sendable, CaseIterable {
        /// SendWatch's alert schema version 1.
        case sendwatch
        /// OCSF Detection Finding (class 2004).
        case ocsf
    }

    /// The engine; read its counters after the run.
    public private(set) var engine: DetectionEngine
    private let output: OutputWriter
    private var writer = JSONWriter(capacity: 16 * 1024)
    private var pending: [Alert] = []
    /// Alert records written.
    public private(set) var alertsWritten = 0
    /// Alert records per kind.
    public private(set) var alertsByKind: [String: Int] = [:]

    private let format: Format
    private let productVersion: String

    public init(engine: DetectionEngine, output: OutputWriter, format: Format = .sendwatch, productVersion: String = "0.1.0") {
        self.engine = engine
        self.output = output
        self.format = format
        self.productVersion = productVersion
    }

    public mutating func accept(_ batch: inout EventBatch) {
        engine.process(&batch, into: &pending)
        if !pending.isEmpty { write() }
    }

    public mutating func flush() {
        if !pending.isEmpty { write() }
        output.flush()
    }

    /// Closes the alerts whose cooldown has passed at the last event's time; call once at the end of input.
    public mutating func finish() {
        engine.finish(into: &pending)
        flush()
    }

    private mutating func write() {
        for alert in pending {
            switch format {
            case .sendwatch: alert.writeJSONLine(to: &writer)
            case .ocsf: alert.writeOCSFLine(to: &writer, productVersion: productVersion)
            }
            alertsByKind[alert.kind, default: 0] += 1
        }
        alertsWritten += pending.count
        pending.removeAll(keepingCapacity: true)
        output.buffer.append(contentsOf: writer.bytes)
        writer.reset()
        output.flushIfFull()
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
