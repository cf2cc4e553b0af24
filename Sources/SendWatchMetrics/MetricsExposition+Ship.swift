import Prometheus
public import SendWatchPipeline

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
        let registry = PrometheusCollectorRegistry()
        func counter(_ name: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels
            ).increment(by: Int64(max(0, value)))
        }
        func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels
            ).set(to: value)
        }
        counter("sendwatch_input_lines_total", "Log lines read.", s.lines)
        counter("sendwatch_ship_publishes_total", "Messages handed to the broker, repeats included.", s.publishes)
        let acks = "Messages the broker acknowledged, by result: stored, or duplicate (it had the message id)."
        counter("sendwatch_ship_acks_total", acks, s.acknowledged, labels: [("result", "stored")])
        counter("sendwatch_ship_acks_total", acks, s.duplicates, labels: [("result", "duplicate")])
        counter(
            "sendwatch_ship_retries_total", "Messages published again after the broker was unreachable or slow.",
            s.retries)
        counter("sendwatch_ship_outages_total", "Times the broker became unreachable.", s.outages)
        gauge(
            "sendwatch_ship_window_pending", "Messages of the current window awaiting their acknowledgement.",
            Double(s.windowPending))
        gauge(
            "sendwatch_ship_events_pending", "Events read and not acknowledged yet.", Double(s.eventsPending))
        counter("sendwatch_checkpoints_total", "Checkpoints written.", s.checkpoints)
        for file in s.files {
            gauge(
                "sendwatch_input_offset_bytes", "Bytes read of each followed file.", Double(file.offset),
                labels: [("path", file.path)])
        }
        for file in s.files {
            gauge(
                "sendwatch_input_lag_bytes", "Bytes of each followed file not read yet.", Double(file.behindBytes),
                labels: [("path", file.path)])
        }
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        registry.emit(into: &out)
        return out
    }
}
