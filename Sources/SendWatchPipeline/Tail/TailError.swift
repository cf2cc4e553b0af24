public import SendWatchAlerts
public import SendWatchCore

/// Why `tail` could not start or had to stop.
///
/// Shaped like `IngestError` and `OutputError`: a ``code`` from an open set to decide on (and to log), a
/// message that says what failed, where and what to do, the path involved and the `errno` when the system
/// gave one. New codes may be added in later versions, so switch over ``code`` with a `default` branch.
public struct TailError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. An open set: compare with the static members, e.g. `.outputFailed`.
    public typealias Code = ErrorCode<TailError>

    /// What kind of failure this is.
    public var code: Code
    /// What failed, where, and what to do.
    public var message: String
    /// The file or address involved, if one is.
    public var path: String?
    /// The `errno` value the system reported, if any.
    public var underlyingErrno: Int32?
    /// The alert output's failure behind this one (codes `output_unusable`, `output_failed`), with its own code
    /// (`write_failed`, a sink's own codes) and ``OutputError/isBrokenPipe``; nil for other failures.
    public var output: OutputError?

    /// Creates an error.
    public init(code: Code, message: String, path: String? = nil, underlyingErrno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.underlyingErrno = underlyingErrno
    }

    /// The message.
    public var description: String { message }
}

extension ErrorCode where Domain == TailError {
    /// The state directory cannot be created or used.
    public static var stateDirectoryUnusable: Self { Self("state_directory_unusable") }
    /// Another run holds the state directory's lock (two runs on one directory would write alerts twice).
    public static var stateDirectoryLocked: Self { Self("state_directory_locked") }
    /// The checkpoint file is damaged (bad checksum, cut off); it is left in place.
    public static var checkpointDamaged: Self { Self("checkpoint_damaged") }
    /// The checkpoint was written by another state format, or its state does not fit the configuration.
    public static var checkpointIncompatible: Self { Self("checkpoint_incompatible") }
    /// A checkpoint could not be written (or the output synced before it); the previous one stays.
    public static var checkpointFailed: Self { Self("checkpoint_failed") }
    /// The alert output cannot be opened, or a partial record cannot be cut off it.
    public static var outputUnusable: Self { Self("output_unusable") }
    /// Alerts could not be written and the run stopped, without a checkpoint past them.
    public static var outputFailed: Self { Self("output_failed") }
    /// The followed paths cannot be watched (bad configuration, inotify unavailable, ...).
    public static var followFailed: Self { Self("follow_failed") }
    /// The metrics address is invalid or cannot be listened on.
    public static var metricsUnavailable: Self { Self("metrics_unavailable") }
    /// `ship`: the broker refused an event (a stream limit, no stream for the subject); the checkpoint stays
    /// before it.
    public static var publishRefused: Self { Self("publish_refused") }
    /// The policy service's address cannot be listened on (`tail --policy`).
    public static var policyUnavailable: Self { Self("policy_unavailable") }
}

extension TailError {
    /// A failure of the alert output (kept as ``output``), with its path and `errno`; `consequence` says what
    /// the run did about it.
    public init(output error: OutputError, code: Code, consequence: String? = nil) {
        self.init(
            code: code, message: "\(error)" + (consequence.map { "; " + $0 } ?? ""), path: error.path,
            underlyingErrno: error.underlyingErrno)
        output = error
    }
}
