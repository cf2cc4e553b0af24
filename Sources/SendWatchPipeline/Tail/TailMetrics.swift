public import SendWatchDetect

/// The figures `sendwatch tail` publishes, replaced as a whole once per loop iteration.
///
/// Label sets are bounded: skip reasons are a closed enum, alert kinds are the rule names, and files are the
/// followed streams (at most `follow.max_streams`). Nothing is labelled per account, recipient or template.
public struct TailMetricsSnapshot: RunMetricsSnapshot {
    public var lines = 0
    /// The detection engine's counters: its events (parsed send events), table evictions, late events and time
    /// outliers are published. ``DetectionCounters/timeOutliers`` also counts the events set aside as time
    /// outliers before they reached the engine (`tail`'s look-ahead).
    public var detection = DetectionCounters()
    public var skipped: [(reason: String, count: Int)] = []
    /// Parsed lines by class: `understood`, `irrelevant`, `not_recognised` (other programs' and skipped lines).
    public var linesByClass: [(class: String, count: Int)] = []
    public var alertsByKind: [(kind: String, count: Int)] = []
    public var alertRecords = 0
    public var memoryBytes = 0
    public var memoryBudgetBytes = 0
    public var checkpoints = 0
    /// Bytes the last checkpoint wrote: its state without the large arrays, and the arrays' changed words (all of
    /// them when it started a generation of the section files).
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
}

/// The shared, lock-protected metrics of a tail run, as those of `ship`, `detect` and `sink`: the loop replaces
/// the snapshot once per iteration (never per line); the metrics endpoint (`SendWatchMetrics`) copies it per
/// scrape and renders it.
public typealias TailMetrics = RunMetrics<TailMetricsSnapshot>
