import Prometheus
import SendWatchDetect
public import SendWatchPipeline

extension TailMetricsSnapshot: PrometheusExposable {
    /// ``MetricsExposition/render(_:)-(TailMetricsSnapshot)``.
    public func exposition() -> [UInt8] { MetricsExposition.render(self) }
}

/// The Prometheus text exposition (format 0.0.4) of a tail run's figures, rendered by swift-prometheus.
///
/// The run publishes one ``TailMetricsSnapshot`` per loop iteration (never per line); a scrape copies it and
/// registers its figures in a fresh `PrometheusCollectorRegistry`, which writes the `# HELP`/`# TYPE` lines,
/// escapes label values and formats the samples. A fresh registry per scrape keeps each scrape one consistent
/// snapshot and lets a followed file that is gone drop out of the `path` labels, as it does from the snapshot.
/// A family with no samples (no skipped line yet, say) is left out whole.
///
/// Names, types and labels (labels are bounded: `reason` and `kind` are closed sets, `path` the followed files):
///
/// | name | type | labels |
/// | --- | --- | --- |
/// | `sendwatch_input_lines_total` | counter | |
/// | `sendwatch_parse_events_total` | counter | |
/// | `sendwatch_parse_skipped_lines_total` | counter | `reason` |
/// | `sendwatch_parse_lines_total` | counter | `class` |
/// | `sendwatch_alerts_total` | counter | `kind` |
/// | `sendwatch_detect_evictions_total` | counter | |
/// | `sendwatch_detect_late_events_total` | counter | |
/// | `sendwatch_detect_time_outliers_total` | counter | |
/// | `sendwatch_detect_memory_bytes` | gauge | |
/// | `sendwatch_detect_memory_budget_bytes` | gauge | |
/// | `sendwatch_checkpoints_total` | counter | |
/// | `sendwatch_checkpoint_bytes` | gauge | |
/// | `sendwatch_checkpoint_seconds` | gauge | |
/// | `sendwatch_restarts_total` | counter | |
/// | `sendwatch_output_errors_total` | counter | |
/// | `sendwatch_input_offset_bytes` | gauge | `path` |
/// | `sendwatch_input_lag_bytes` | gauge | `path` |
/// | `sendwatch_input_lag_seconds` | gauge | |
/// | `sendwatch_input_missing_paths` | gauge | |
public enum MetricsExposition {
    /// The content type of ``render(_:)``'s bytes.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Renders `snapshot` as Prometheus text.
    ///
    /// - Parameter snapshot: The figures of one loop iteration.
    /// - Returns: The exposition, UTF-8.
    /// - Complexity: O(*n*) in the number of samples (about 20 plus the skip reasons, rule names and files).
    public static func render(_ snapshot: TailMetricsSnapshot) -> [UInt8] {
        let s = snapshot
        let registry = PrometheusCollectorRegistry()
        // The whole name as the metric name (an empty unit adds nothing), so each name reads whole below.
        func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        func counter(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Int64)]) {
            for sample in samples {
                // A counter only goes up (swift-prometheus traps on a negative increment); figures are never
                // negative, and a bug that made one so must not take the endpoint down.
                registry.makeCounter(descriptor: descriptor(name, help), labels: sample.labels)
                    .increment(by: max(0, sample.value))
            }
        }
        func gauge(_ name: String, _ help: String, _ samples: [(labels: [(String, String)], value: Double)]) {
            for sample in samples {
                registry.makeGauge(descriptor: descriptor(name, help), labels: sample.labels).set(to: sample.value)
            }
        }
        func one(_ value: some BinaryInteger) -> [(labels: [(String, String)], value: Int64)] {
            [([], Int64(clamping: value))]
        }
        func oneGauge(_ value: Double) -> [(labels: [(String, String)], value: Double)] { [([], value)] }

        counter("sendwatch_input_lines_total", "Log lines read.", one(s.lines))
        counter("sendwatch_parse_events_total", "Send events (message-recipients) parsed.", one(s.detection.events))
        counter(
            "sendwatch_parse_skipped_lines_total", "Lines skipped, by reason.",
            s.skipped.map { ([("reason", $0.reason)], Int64(clamping: $0.count)) })
        counter(
            "sendwatch_parse_lines_total",
            "Lines parsed, by class: understood (made or joined an event), irrelevant, not_recognised.",
            s.linesByClass.map { ([("class", $0.class)], Int64(clamping: $0.count)) })
        counter(
            "sendwatch_alerts_total", "Alert records written, by rule.",
            s.alertsByKind.map { ([("kind", $0.kind)], Int64(clamping: $0.count)) })
        counter(
            "sendwatch_detect_evictions_total", "Entries evicted from the bounded detection tables.",
            one(s.detection.evictions))
        counter(
            "sendwatch_detect_late_events_total", "Events dropped as later than the allowed lateness.",
            one(s.detection.lateEvents))
        counter(
            "sendwatch_detect_time_outliers_total",
            "Events dropped for a time far ahead of the newest event that nothing confirmed.",
            one(s.detection.timeOutliers))
        gauge(
            "sendwatch_detect_memory_bytes", "Approximate bytes held by the detection tables.",
            oneGauge(Double(s.memoryBytes)))
        gauge(
            "sendwatch_detect_memory_budget_bytes", "The configured detection memory budget.",
            oneGauge(Double(s.memoryBudgetBytes)))
        counter("sendwatch_checkpoints_total", "Checkpoints written.", one(s.checkpoints))
        gauge(
            "sendwatch_checkpoint_bytes", "Bytes the last checkpoint wrote (its state and the changed sections).",
            oneGauge(Double(s.checkpointBytes)))
        gauge("sendwatch_checkpoint_seconds", "How long the last checkpoint took.", oneGauge(s.checkpointSeconds))
        counter("sendwatch_restarts_total", "Starts that resumed from a checkpoint.", one(s.restarts))
        counter("sendwatch_output_errors_total", "Failed writes of alert output.", one(s.outputErrors))
        gauge(
            "sendwatch_input_offset_bytes", "Bytes read of each followed file.",
            s.files.map { ([("path", $0.path)], Double($0.offset)) })
        gauge(
            "sendwatch_input_lag_bytes", "Bytes of each followed file not read yet.",
            s.files.map { ([("path", $0.path)], Double($0.behindBytes)) })
        gauge("sendwatch_input_lag_seconds", "Wall clock minus the newest event time.", oneGauge(s.lagSeconds))
        gauge(
            "sendwatch_input_missing_paths",
            "Followed names with no file now (missing, or between a rename and the next file).",
            oneGauge(Double(s.pathsWithoutFile)))
        var out: [UInt8] = []
        out.reserveCapacity(4096)
        registry.emit(into: &out)
        return out
    }
}
