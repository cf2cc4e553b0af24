import Foundation
import SendWatchIngest
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The figures `sendwatch tail` publishes, replaced as a whole once per loop iteration.
///
/// Label sets are bounded: skip reasons are a closed enum, alert kinds are the rule names, and files are the
/// followed streams (at most `follow.max_streams`). Nothing is labelled per account, recipient or template.
public struct TailMetricsSnapshot: Sendable {
    public var lines = 0
    public var events = 0
    public var skipped: [(reason: String, count: Int)] = []
    /// Parsed lines by class: `understood`, `irrelevant`, `not_recognised` (other programs' and skipped lines).
    public var linesByClass: [(class: String, count: Int)] = []
    public var alertsByKind: [(kind: String, count: Int)] = []
    public var alertRecords = 0
    public var evictions: UInt64 = 0
    public var lateEvents = 0
    public var timeOutliers = 0
    public var memoryBytes = 0
    public var memoryBudgetBytes = 0
    public var checkpoints = 0
    public var checkpointBytes = 0
    /// How long the last checkpoint took (encode, write, fsync, rename).
    public var checkpointSeconds: Double = 0
    public var restarts = 0
    public var outputErrors = 0
    /// Per followed file: path, offset read, bytes not read yet.
    public var files: [(path: String, offset: Int64, behindBytes: Int64)] = []
    /// Wall clock minus the newest event time, in seconds (how far behind the logs the detection is).
    public var lagSeconds: Double = 0
    /// Followed names with no file now: missing (waiting for it to appear) or between a rename and the next.
    public var pathsWithoutFile = 0
    public init() {}

    /// The Prometheus text exposition format (version 0.0.4).
    public var prometheusText: String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
        }
        func one(_ v: some BinaryInteger) -> [(labels: String, value: String)] { [("", String(v))] }
        metric("sendwatch_input_lines_total", "counter", "Log lines read.", one(lines))
        metric("sendwatch_parse_events_total", "counter", "Send events (message-recipients) parsed.", one(events))
        metric(
            "sendwatch_parse_skipped_lines_total", "counter", "Lines skipped, by reason.",
            skipped.map { ("{reason=\"\(Self.escape($0.reason))\"}", String($0.count)) })
        metric(
            "sendwatch_parse_lines_total", "counter",
            "Lines parsed, by class: understood (made or joined an event), irrelevant, not_recognised.",
            linesByClass.map { ("{class=\"\($0.class)\"}", String($0.count)) })
        metric(
            "sendwatch_alerts_total", "counter", "Alert records written, by rule.",
            alertsByKind.map { ("{kind=\"\(Self.escape($0.kind))\"}", String($0.count)) })
        metric(
            "sendwatch_detect_evictions_total", "counter", "Entries evicted from the bounded detection tables.",
            one(evictions))
        metric(
            "sendwatch_detect_late_events_total", "counter", "Events dropped as later than the allowed lateness.",
            one(lateEvents))
        metric(
            "sendwatch_detect_time_outliers_total", "counter",
            "Events dropped for a time far ahead of the newest event that nothing confirmed.", one(timeOutliers))
        metric(
            "sendwatch_detect_memory_bytes", "gauge", "Approximate bytes held by the detection tables.",
            one(memoryBytes))
        metric(
            "sendwatch_detect_memory_budget_bytes", "gauge", "The configured detection memory budget.",
            one(memoryBudgetBytes))
        metric("sendwatch_checkpoints_total", "counter", "Checkpoints written.", one(checkpoints))
        metric("sendwatch_checkpoint_bytes", "gauge", "Size of the last checkpoint's state.", one(checkpointBytes))
        metric(
            "sendwatch_checkpoint_seconds", "gauge", "How long the last checkpoint took.",
            [("", String(format: "%.3f", checkpointSeconds))])
        metric("sendwatch_restarts_total", "counter", "Starts that resumed from a checkpoint.", one(restarts))
        metric("sendwatch_output_errors_total", "counter", "Failed writes of alert output.", one(outputErrors))
        metric(
            "sendwatch_input_offset_bytes", "gauge", "Bytes read of each followed file.",
            files.map { ("{path=\"\(Self.escape($0.path))\"}", String($0.offset)) })
        metric(
            "sendwatch_input_lag_bytes", "gauge", "Bytes of each followed file not read yet.",
            files.map { ("{path=\"\(Self.escape($0.path))\"}", String($0.behindBytes)) })
        metric(
            "sendwatch_input_lag_seconds", "gauge", "Wall clock minus the newest event time.",
            [("", String(format: "%.3f", lagSeconds))])
        metric(
            "sendwatch_input_missing_paths", "gauge",
            "Followed names with no file now (missing, or between a rename and the next file).",
            one(pathsWithoutFile))
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The shared, lock-protected metrics of a tail run. The loop replaces the snapshot once per iteration; the
/// HTTP server thread reads it per scrape.
public final class TailMetrics: Sendable {
    private let state = Mutex(TailMetricsSnapshot())

    public init() {}

    /// Changes the snapshot under the lock.
    public func update(_ body: (inout TailMetricsSnapshot) -> Void) {
        state.withLock { body(&$0) }
    }

    /// A copy of the snapshot.
    public var snapshot: TailMetricsSnapshot { state.withLock { $0 } }
}
