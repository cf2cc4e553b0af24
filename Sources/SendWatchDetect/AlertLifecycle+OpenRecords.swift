public import SendWatchCore

extension AlertLifecycle {
    /// The last record of each open alert (the newest `create` or `update` emitted for it), in id order: what a
    /// consumer that keeps the open alerts (the policy service's table) rebuilds itself from after a restore.
    ///
    /// - Complexity: O(open alerts × log open alerts); at most ``Configuration/maxOpenAlerts`` records.
    public var openRecords: [Alert] { open.values.map(\.last).sorted { $0.id < $1.id } }
}

extension DetectionEngine {
    /// The last record of each open alert, in id order (``AlertLifecycle/openRecords``).
    public var openAlertRecords: [Alert] { context.lifecycle.openRecords }
}
