import Prometheus
public import SendWatchPipeline

/// A run's figures that the metrics endpoint renders as Prometheus text (``MetricsServer``'s generic
/// initializer serves any of them).
public protocol PrometheusExposable: RunMetricsSnapshot {
    /// The figures as Prometheus text (format 0.0.4).
    func exposition() -> [UInt8]
}

/// One scrape's registry with the whole metric name as the name (an empty unit adds nothing), so that each
/// name reads whole where it is registered.
struct Exposition {
    private let registry = PrometheusCollectorRegistry()

    /// A counter sample. A counter only goes up (swift-prometheus traps on a negative increment); figures are
    /// never negative, and a bug that made one so must not take the endpoint down.
    func counter<Value: BinaryInteger>(
        _ name: String, _ help: String, _ value: Value, labels: [(String, String)] = []
    ) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels
        ).increment(by: Int64(clamping: max(0, value)))
    }

    /// A gauge sample.
    func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels
        ).set(to: value)
    }

    /// The text.
    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        registry.emit(into: &out)
        return out
    }
}

extension ShipMetricsSnapshot: PrometheusExposable {
    /// ``MetricsExposition/render(_:)-(ShipMetricsSnapshot)``.
    public func exposition() -> [UInt8] { MetricsExposition.render(self) }
}

extension MetricsExposition {
    /// Renders a ship run's figures as Prometheus text (`sendwatch ship --metrics`).
    ///
    /// | name | type | labels |
    /// |---|---|---|
    /// | `sendwatch_input_lines_total` | counter | |
    /// | `sendwatch_ship_publishes_total` | counter | |
    /// | `sendwatch_ship_acks_total` | counter | `result` (`stored`, `duplicate`) |
    /// | `sendwatch_ship_retries_total` | counter | |
    /// | `sendwatch_ship_outages_total` | counter | |
    /// | `sendwatch_ship_window_pending` | gauge | |
    /// | `sendwatch_ship_events_pending` | gauge | |
    /// | `sendwatch_checkpoints_total` | counter | |
    /// | `sendwatch_input_offset_bytes` | gauge | `path` |
    /// | `sendwatch_input_lag_bytes` | gauge | `path` |
    ///
    /// - Complexity: O(followed files).
    public static func render(_ s: ShipMetricsSnapshot) -> [UInt8] {
        let e = Exposition()
        e.counter("sendwatch_input_lines_total", "Log lines read.", s.totals.lines)
        e.counter("sendwatch_ship_publishes_total", "Messages handed to the broker, repeats included.", s.publishes)
        let acks = "Messages the broker acknowledged, by result: stored, or duplicate (it had the message id)."
        e.counter("sendwatch_ship_acks_total", acks, s.totals.published, labels: [("result", "stored")])
        e.counter("sendwatch_ship_acks_total", acks, s.totals.duplicates, labels: [("result", "duplicate")])
        e.counter(
            "sendwatch_ship_retries_total", "Messages published again after the broker was unreachable or slow.",
            s.totals.retries)
        e.counter("sendwatch_ship_outages_total", "Times the broker became unreachable.", s.outages)
        e.gauge(
            "sendwatch_ship_window_pending", "Messages of the current window awaiting their acknowledgement.",
            Double(s.windowPending))
        e.gauge("sendwatch_ship_events_pending", "Events read and not acknowledged yet.", Double(s.eventsPending))
        e.counter("sendwatch_checkpoints_total", "Checkpoints written.", s.totals.checkpoints)
        for file in s.files {
            e.gauge(
                "sendwatch_input_offset_bytes", "Bytes read of each followed file.", Double(file.offset),
                labels: [("path", file.path)])
        }
        for file in s.files {
            e.gauge(
                "sendwatch_input_lag_bytes", "Bytes of each followed file not read yet.", Double(file.behindBytes),
                labels: [("path", file.path)])
        }
        return e.bytes()
    }
}
