public import SendWatchCore

/// The figures of a reader of one stream (`detect`, `sink`) and of its consumer.
public struct ConsumerFigures: Sendable {
    /// The stream's name (the `stream` label).
    public var stream = ""
    /// Messages the stream holds after the last one delivered to this reader: its lag (the consumer's pending
    /// count, as the server reported it with the last message; 0 when caught up).
    public var pendingMessages: UInt64 = 0
    /// The stream sequence of the last message taken in.
    public var lastSequence: UInt64 = 0
    /// Acknowledgements of the consumer this run (one after each checkpoint, covering every message before it).
    public var acknowledgements = 0
    /// Messages the broker delivered again that had been delivered already (this run), skipped.
    public var redeliveries = 0
    /// Times the consumer was made again because a fetch may have left its pull request live at the server (this
    /// run; see ``StreamFeed/remakes``).
    public var remakes = 0
    /// Times the broker became unreachable (this run).
    public var outages = 0
    /// All zero.
    public init() {}
}

/// What a worker took in from one partition of the events stream, and its lag there.
public struct PartitionFigures: Sendable, Equatable {
    /// The partition (the number its subject ends in: 0 to 1023).
    public var partition = 0
    /// Messages taken in from it (repeated deliveries not counted), since the state was created.
    public var messages = 0
    /// Send events taken in from it, since the state was created.
    public var events = 0
    /// The stream sequence of its last message taken in.
    public var lastSequence: UInt64 = 0
    /// The latest event time taken in from it (its events are not in time order: several hosts publish into it).
    public var latestEventTime: EventTime?
    /// Its lag: the messages the stream holds in it minus those taken in from it (0 at least), as the broker said
    /// at most a second ago; nil when the broker has not said yet.
    public var pendingMessages: UInt64?
    /// Nothing taken in yet from `partition`.
    public init(partition: Int) { self.partition = partition }
}

/// The figures of a detect run the metrics endpoint shows (`sendwatch detect --metrics`), replaced by the run
/// once per fetch. Counters marked "since the state was created" continue across restarts (they are
/// checkpointed); the others count this run.
public struct DetectMetricsSnapshot: RunMetricsSnapshot {
    /// The events stream's consumer.
    public var consumer = ConsumerFigures()
    /// The run's totals, since the state was created: events taken in, messages that were not an event record,
    /// alert records published and those of them the broker already had and dropped (repeated after a restart;
    /// the others it stored), fetches and publishes repeated while the broker was unreachable, checkpoints.
    public var totals = DetectTotals()
    /// Events held by the merge of the hosts (waiting for the other hosts' next events).
    public var heldEvents = 0
    /// Events the merge released early because its buffer was full (since the state was created).
    public var releasedEarly = 0
    /// The worker's lease (this process): held or standby, changes; nil when the worker runs without one.
    public var lease: LeaseFigures?
    /// Whether the lease's publish fence holds alert records back now: the last renewal that reached the lease
    /// store is ``WorkerLease/publishSeconds`` old (`DetectRun`'s publish fence; docs/fleet.md).
    public var publishPaused = false
    /// Times the publish fence began to hold records back (this run).
    public var publishPauses = 0
    /// Per partition the worker took messages from, by partition (at most 1024 entries).
    public var partitions: [PartitionFigures] = []
    /// All zero.
    public init() {}
}

/// The metrics of a detect run (`sendwatch detect --metrics`).
public typealias DetectMetrics = RunMetrics<DetectMetricsSnapshot>

/// The figures of a sink run the metrics endpoint shows (`sendwatch sink --metrics`), replaced by the run once
/// per fetch.
public struct SinkMetricsSnapshot: RunMetricsSnapshot {
    /// The alerts stream's consumer.
    public var consumer = ConsumerFigures()
    /// Records written, since the state was created.
    public var records = 0
    /// Bytes of the output file (0 on standard output).
    public var outputBytes: Int64 = 0
    /// Fetches repeated while the broker was unreachable (this run).
    public var retries = 0
    /// Checkpoints written this run.
    public var checkpoints = 0
    /// All zero.
    public init() {}
}

/// The metrics of a sink run (`sendwatch sink --metrics`).
public typealias SinkMetrics = RunMetrics<SinkMetricsSnapshot>
