import Synchronization

/// The figures a run's metrics endpoint shows: one value, replaced by the run at its own pace (never per line or
/// per message) and copied by the endpoint per scrape.
public protocol RunMetricsSnapshot: Sendable {
    /// All zero.
    init()
}

/// The shared, lock-protected metrics of a `tail`, `ship`, `detect`, `forward` or `sink` run: the run updates
/// them, the endpoint (`SendWatchMetrics`) copies them per scrape.
public final class RunMetrics<Snapshot: RunMetricsSnapshot>: Sendable {
    private let state = Mutex(Snapshot())

    /// No figures yet.
    public init() {}

    /// Changes the snapshot under the lock.
    public func update(_ body: (inout Snapshot) -> Void) {
        state.withLock { body(&$0) }
    }

    /// A copy of the snapshot.
    public var snapshot: Snapshot { state.withLock { $0 } }
}
