import SendWatchCore
public import SendWatchPipeline

extension DetectMetricsSnapshot: PrometheusExposable {
    /// ``MetricsExposition/render(_:)-(DetectMetricsSnapshot)``.
    public func exposition() -> [UInt8] { MetricsExposition.render(self) }
}

extension SinkMetricsSnapshot: PrometheusExposable {
    /// ``MetricsExposition/render(_:)-(SinkMetricsSnapshot)``.
    public func exposition() -> [UInt8] { MetricsExposition.render(self) }
}

extension ForwardMetricsSnapshot: PrometheusExposable {
    /// ``MetricsExposition/render(_:)-(ForwardMetricsSnapshot)``.
    public func exposition() -> [UInt8] { MetricsExposition.render(self) }
}

extension MetricsExposition {
    /// Renders a forward run's figures as Prometheus text (`sendwatch forward --metrics`).
    ///
    /// | name | type | labels |
    /// |---|---|---|
    /// | `sendwatch_forward_live_workers` | gauge | |
    /// | `sendwatch_forward_share` | gauge | |
    /// | `sendwatch_forward_lease_changes_total` | counter | |
    /// | `sendwatch_forward_events_total` | counter | |
    /// | `sendwatch_fleet_retries_total` | counter | |
    /// | `sendwatch_forward_pauses_total` | counter | |
    /// | `sendwatch_forward_partition_held` | gauge | `partition` |
    /// | `sendwatch_forward_partition_paused` | gauge | `partition` |
    /// | `sendwatch_forward_partition_watermark` | gauge | `partition` |
    /// | `sendwatch_forward_partition_events_total` | counter | `partition` |
    /// | `sendwatch_forward_partition_pending_messages` | gauge | `partition` (held ones) |
    ///
    /// - Complexity: O(partitions): 6 samples plus at most 5 per partition (at most 1024 partitions).
    public static func render(_ s: ForwardMetricsSnapshot) -> [UInt8] {
        let e = Exposition()
        e.gauge(
            "sendwatch_forward_live_workers", "Live workers of this name, this one included.", Double(s.liveWorkers))
        e.gauge("sendwatch_forward_share", "Partitions this worker's share is.", Double(s.share))
        e.counter(
            "sendwatch_forward_lease_changes_total", "Partition leases taken, given back or lost (this run).",
            s.leaseChanges)
        e.counter("sendwatch_forward_events_total", "Events forwarded (this run).", s.forwarded)
        e.counter("sendwatch_fleet_retries_total", "Fetches and publishes repeated (broker unreachable).", s.retries)
        e.counter(
            "sendwatch_forward_pauses_total",
            "Times a partition's lease fence began to hold it back (lease store unreachable for 2/3 of the lease).",
            s.pauses)
        for p in s.partitions {
            e.gauge(
                "sendwatch_forward_partition_held", "1: this worker holds the partition's lease.", p.held ? 1 : 0,
                labels: [("partition", String(p.partition))])
        }
        for p in s.partitions {
            e.gauge(
                "sendwatch_forward_partition_paused",
                "1: the lease fence holds the partition back (nothing of it fetched or forwarded).", p.paused ? 1 : 0,
                labels: [("partition", String(p.partition))])
        }
        for p in s.partitions {
            e.gauge(
                "sendwatch_forward_partition_watermark",
                "Events-stream sequence up to which the partition is forwarded (as this worker last knew it).",
                Double(p.watermark), labels: [("partition", String(p.partition))])
        }
        for p in s.partitions {
            e.counter(
                "sendwatch_forward_partition_events_total", "Events this worker forwarded from the partition.",
                p.forwarded, labels: [("partition", String(p.partition))])
        }
        for p in s.partitions where p.held {
            e.gauge(
                "sendwatch_forward_partition_pending_messages",
                "Messages of the partition after the last one forwarded (its lag).", Double(p.pendingMessages),
                labels: [("partition", String(p.partition))])
        }
        return e.bytes()
    }

    /// Renders a detect run's figures as Prometheus text (`sendwatch detect --metrics`).
    ///
    /// | name | type | labels |
    /// |---|---|---|
    /// | `sendwatch_consumer_pending_messages` | gauge | `stream` |
    /// | `sendwatch_consumer_last_sequence` | gauge | `stream` |
    /// | `sendwatch_consumer_acks_total` | counter | `stream` |
    /// | `sendwatch_consumer_redeliveries_total` | counter | `stream` |
    /// | `sendwatch_consumer_remakes_total` | counter | `stream` |
    /// | `sendwatch_detect_events_total` | counter | |
    /// | `sendwatch_detect_undecodable_total` | counter | |
    /// | `sendwatch_detect_held_events` | gauge | |
    /// | `sendwatch_detect_released_early_total` | counter | |
    /// | `sendwatch_detect_alert_records_total` | counter | `result` (`stored`, `duplicate`) |
    /// | `sendwatch_fleet_retries_total` | counter | |
    /// | `sendwatch_fleet_outages_total` | counter | |
    /// | `sendwatch_checkpoints_total` | counter | |
    /// | `sendwatch_detect_lease_held` | gauge | (with a lease) |
    /// | `sendwatch_detect_lease_changes_total` | counter | (with a lease) |
    /// | `sendwatch_detect_lease_revision` | gauge | (with a lease) |
    /// | `sendwatch_detect_publish_paused` | gauge | (with a lease) |
    /// | `sendwatch_detect_publish_pauses_total` | counter | (with a lease) |
    /// | `sendwatch_detect_partition_messages_total` | counter | `partition` |
    /// | `sendwatch_detect_partition_events_total` | counter | `partition` |
    /// | `sendwatch_detect_partition_last_sequence` | gauge | `partition` |
    /// | `sendwatch_detect_partition_latest_event_time_seconds` | gauge | `partition` (once it had an event) |
    /// | `sendwatch_detect_partition_pending_messages` | gauge | `partition` (once the broker said) |
    ///
    /// - Complexity: O(partitions): about 19 samples plus at most 5 per partition (at most 1024 partitions).
    public static func render(_ s: DetectMetricsSnapshot) -> [UInt8] {
        let e = Exposition()
        consumer(e, s.consumer)
        e.counter("sendwatch_detect_events_total", "Send events taken in from the stream.", s.totals.events)
        e.counter(
            "sendwatch_detect_undecodable_total", "Messages that were not an event record, skipped.",
            s.totals.undecodable)
        e.gauge(
            "sendwatch_detect_held_events", "Events held to merge the hosts by event time.", Double(s.heldEvents))
        e.counter(
            "sendwatch_detect_released_early_total", "Events released early because the merge's buffer was full.",
            s.releasedEarly)
        let records = "Alert records published, by result: stored, or duplicate (the broker had the message id)."
        let stored = s.totals.alertRecords - s.totals.duplicateAlerts
        e.counter("sendwatch_detect_alert_records_total", records, stored, labels: [("result", "stored")])
        e.counter(
            "sendwatch_detect_alert_records_total", records, s.totals.duplicateAlerts,
            labels: [("result", "duplicate")])
        broker(e, retries: s.totals.retries, outages: s.consumer.outages)
        e.counter("sendwatch_checkpoints_total", "Checkpoints written.", s.totals.checkpoints)
        if let lease = s.lease {
            e.gauge(
                "sendwatch_detect_lease_held", "1: this worker holds the lease of its consumer name; 0: standby.",
                lease.held ? 1 : 0)
            e.counter(
                "sendwatch_detect_lease_changes_total", "Times this worker took or lost the lease (this run).",
                lease.changes)
            e.gauge(
                "sendwatch_detect_lease_revision", "The lease key's revision this worker last wrote or saw.",
                Double(lease.revision))
            e.gauge(
                "sendwatch_detect_publish_paused",
                "1: the lease fence holds alert records back (lease store unreachable for 2/3 of the lease).",
                s.publishPaused ? 1 : 0)
            e.counter(
                "sendwatch_detect_publish_pauses_total", "Times the lease fence began to hold records back (this run).",
                s.publishPauses)
        }
        partitions(e, s.partitions)
        return e.bytes()
    }

    /// Each partition's figures, labelled `partition="N"`.
    private static func partitions(_ e: Exposition, _ list: [PartitionFigures]) {
        for p in list {
            e.counter(
                "sendwatch_detect_partition_messages_total", "Messages taken in from the partition.", p.messages,
                labels: [("partition", String(p.partition))])
        }
        for p in list {
            e.counter(
                "sendwatch_detect_partition_events_total", "Send events taken in from the partition.", p.events,
                labels: [("partition", String(p.partition))])
        }
        for p in list {
            e.gauge(
                "sendwatch_detect_partition_last_sequence", "Stream sequence of the partition's last message taken in.",
                Double(p.lastSequence), labels: [("partition", String(p.partition))])
        }
        for p in list {
            guard let time = p.latestEventTime else { continue }
            e.gauge(
                "sendwatch_detect_partition_latest_event_time_seconds",
                "The latest event time taken in from the partition (Unix seconds).",
                Double(time.microseconds) / 1_000_000, labels: [("partition", String(p.partition))])
        }
        for p in list {
            guard let pending = p.pendingMessages else { continue }
            e.gauge(
                "sendwatch_detect_partition_pending_messages",
                "Messages the stream holds in the partition minus those taken in from it (the partition's lag).",
                Double(pending), labels: [("partition", String(p.partition))])
        }
    }

    /// Renders a sink run's figures as Prometheus text (`sendwatch sink --metrics`).
    ///
    /// | name | type | labels |
    /// |---|---|---|
    /// | `sendwatch_consumer_pending_messages` | gauge | `stream` |
    /// | `sendwatch_consumer_last_sequence` | gauge | `stream` |
    /// | `sendwatch_consumer_acks_total` | counter | `stream` |
    /// | `sendwatch_consumer_redeliveries_total` | counter | `stream` |
    /// | `sendwatch_consumer_remakes_total` | counter | `stream` |
    /// | `sendwatch_sink_records_total` | counter | |
    /// | `sendwatch_sink_output_bytes` | gauge | |
    /// | `sendwatch_fleet_retries_total` | counter | |
    /// | `sendwatch_fleet_outages_total` | counter | |
    /// | `sendwatch_checkpoints_total` | counter | |
    ///
    /// - Complexity: O(1): 10 samples.
    public static func render(_ s: SinkMetricsSnapshot) -> [UInt8] {
        let e = Exposition()
        consumer(e, s.consumer)
        e.counter("sendwatch_sink_records_total", "Alert records written to the output.", s.records)
        e.gauge(
            "sendwatch_sink_output_bytes", "Bytes of the output file (0 on standard output).", Double(s.outputBytes))
        broker(e, retries: s.retries, outages: s.consumer.outages)
        e.counter("sendwatch_checkpoints_total", "Checkpoints written.", s.checkpoints)
        return e.bytes()
    }

    /// The figures of a stream's consumer, labelled with the stream.
    private static func consumer(_ e: Exposition, _ c: ConsumerFigures) {
        let label = [("stream", c.stream)]
        e.gauge(
            "sendwatch_consumer_pending_messages",
            "Messages of the stream after the last one delivered to this reader (its lag).", Double(c.pendingMessages),
            labels: label)
        e.gauge(
            "sendwatch_consumer_last_sequence", "Stream sequence of the last message taken in.", Double(c.lastSequence),
            labels: label)
        e.counter(
            "sendwatch_consumer_acks_total", "Acknowledgements of the consumer, each after a checkpoint.",
            c.acknowledgements,
            labels: label)
        e.counter(
            "sendwatch_consumer_redeliveries_total", "Messages delivered again that had been taken in, skipped.",
            c.redeliveries, labels: label)
        e.counter(
            "sendwatch_consumer_remakes_total",
            "Times the consumer was made again after a fetch that may have left its pull request live.", c.remakes,
            labels: label)
    }

    /// The broker's outages.
    private static func broker(_ e: Exposition, retries: Int, outages: Int) {
        e.counter(
            "sendwatch_fleet_retries_total", "Fetches and publishes repeated while the broker was unreachable.", retries
        )
        e.counter("sendwatch_fleet_outages_total", "Times the broker became unreachable.", outages)
    }
}
