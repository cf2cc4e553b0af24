import SendWatchCore
import SendWatchWindows

extension YoungAccountBurstRule {
    /// The rule's per-account state: a young account's recipients (message-recipient events) over the rule's
    /// short and long windows (`rules.young_account_burst.window`, `.long_window`).
    ///
    /// Stored inline in the engine's young-account entry (`YoungAccountState/burst`), so that the rule reads it
    /// with the entry it already has (no second lookup) and it leaves with the entry (evicted or aged out of
    /// the young-account table, under that table's budget share). Its coding is its two windows in order, and
    /// a saved entry is kept only when its windows are the ones the configuration makes (``fits(_:)``).
    ///
    /// Memory: two ``SlidingCount``s of ``DetectionEngine/windowBuckets`` buckets each (``approximateHeapBytes``).
    struct Windows: ApproximateHeapSize, Sendable, Codable {
        /// Recipients in the short window.
        var short: SlidingCount
        /// Recipients in the long window.
        var long: SlidingCount

        /// Empty windows of the lengths `features` takes from the rule's settings (``contribute(_:to:)``).
        init(_ features: FeatureSettings) {
            short = SlidingCount(windowSeconds: features.recentWindowSeconds)
            long = SlidingCount(windowSeconds: features.longRecentWindowSeconds)
        }

        /// Counts one recipient at `now`.
        ///
        /// - Complexity: O(1) amortised.
        mutating func record(at now: EventTime) {
            short.add(1, at: now)
            long.add(1, at: now)
        }

        /// Recipients in the short and the long window at `now`.
        func recipients(at now: EventTime) -> (short: Int, long: Int) {
            (Int(short.value(at: now)), Int(long.value(at: now)))
        }

        /// Whether saved windows have the lengths and buckets `features` gives new ones.
        func fits(_ features: FeatureSettings) -> Bool {
            short.covers(windowSeconds: features.recentWindowSeconds)
                && long.covers(windowSeconds: features.longRecentWindowSeconds)
        }

        var approximateHeapBytes: Int { short.approximateHeapBytes + long.approximateHeapBytes }
    }
}
