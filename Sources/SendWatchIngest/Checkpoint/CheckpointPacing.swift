/// How often a periodic checkpoint is written: the configured interval, stretched for a state whose checkpoint
/// is slow to write.
///
/// The interval is at least ``durationFactor`` times the last checkpoint's duration, so that writing a very large
/// state (seconds for hundreds of MB) costs at most about 5 % of the run's time, whatever interval is configured.
/// `tail` and `detect` both pace their checkpoints with it; what else makes a checkpoint due (alerts waiting,
/// a journal at its bound, the end of a `--once` run) is each run's own business.
///
/// Usage:
/// ```swift
/// let due = now - lastCheckpoint >= CheckpointPacing.intervalSeconds(
///     configured: options.checkpointIntervalSeconds, lastDurationSeconds: lastCheckpointSeconds)
/// ```
public enum CheckpointPacing {
    /// How many times the last checkpoint's duration the interval lasts at least (20: about 5 % of the time).
    public static let durationFactor = 20.0

    /// The seconds between two periodic checkpoints.
    ///
    /// - Parameters:
    ///   - configured: the configured interval, in seconds.
    ///   - lastDurationSeconds: how long the last checkpoint took to write (0 before the first).
    /// - Returns: the larger of `configured` and ``durationFactor`` × `lastDurationSeconds`.
    /// - Complexity: O(1).
    public static func intervalSeconds(configured: Double, lastDurationSeconds: Double) -> Double {
        max(configured, durationFactor * lastDurationSeconds)
    }
}
