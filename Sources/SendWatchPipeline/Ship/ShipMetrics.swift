/// The figures of a ship run the metrics endpoint shows (`sendwatch ship --metrics`): one copy, replaced by the
/// run once per poll and around each window of publishes, never per line.
public struct ShipMetricsSnapshot: RunMetricsSnapshot {
    /// The run's totals, since the state was created (they are checkpointed): lines read, messages the broker
    /// acknowledged as stored (``ShipTotals/published``) or as already stored (``ShipTotals/duplicates``, repeats
    /// after a restart or a lost acknowledgement), messages published again because the broker was unreachable
    /// or did not answer in time, checkpoints written.
    public var totals = ShipTotals()
    /// Messages handed to the broker, repeats included.
    public var publishes = 0
    /// Times the broker became unreachable (each outage counted once, at its start).
    public var outages = 0
    /// Messages of the current window awaiting their acknowledgement (0 between windows).
    public var windowPending = 0
    /// Events read but not acknowledged yet (the current poll's, the window's included).
    public var eventsPending = 0
    /// Per followed file: bytes read, and bytes not read yet (behind the end of the file).
    public var files: [(path: String, offset: Int64, behindBytes: Int64)] = []
    /// All zero.
    public init() {}
}

/// The metrics of a ship run (`sendwatch ship --metrics`).
public typealias ShipMetrics = RunMetrics<ShipMetricsSnapshot>
