public import SendWatchAlerts
public import SendWatchIngest

/// How a `sendwatch tail` run behaves (the flags; the configuration file says what it detects).
public struct TailOptions: Sendable {
    /// Files or globs to follow.
    public var patterns: [String]
    /// Directory of the checkpoint and the alert journal; nil keeps no state (a restart starts over).
    public var stateDirectory: String?
    /// With no checkpoint: read existing files from their start (true) or only what is appended (false,
    /// like `tail -F -n 0`). Default false.
    public var fromStart = false
    /// When the alert output is synced. Default `.checkpoint`.
    public var sync: ExactlyOnceSink.SyncPolicy = .checkpoint
    /// Wall-clock seconds between checkpoints while data flows. Default 30.
    public var checkpointIntervalSeconds: Double = 30
    /// Wall-clock seconds after a batch with alerts until the checkpoint that covers it. Default 1.
    public var alertCheckpointDelaySeconds: Double = 1
    /// Alert records journaled since the last checkpoint at which a checkpoint is written at once, whatever the
    /// intervals say, so that the journal (and the duplicate check of a restart) stays bounded. Default
    /// ``ExactlyOnceSink/maxJournalEntries`` (100,000).
    public var maxJournalEntries = ExactlyOnceSink.maxJournalEntries
    /// Quiet wall-clock seconds after which event time is advanced by the time that passed, so that alerts
    /// can close while the logs are silent. Default 10.
    public var idleAdvanceSeconds: Double = 10
    /// How far ahead of the wall clock an event's time may be, in seconds; later events are set aside as time
    /// outliers (counted with the engine's, metric `sendwatch_detect_time_outliers_total`) and never move event
    /// time. One host's wrong clock or time zone, or a forged line, could otherwise move live event time ahead
    /// for every host (all later events dropped as late), and the checkpoint would keep it across restarts.
    /// Default 3600 (1 h: more than any clock drift, less than a time zone's offset, so a host logging local
    /// time without an offset is caught, and logged, rather than moving time; `--timezone` fixes that).
    public var maxFutureSeconds: Double = 3600
    /// The follower's settings (polling, partial lines, bounds). Reads at most 1 MiB per file per poll (the
    /// follower's own default is 8 MiB): a checkpoint can only be taken between two polls, so while `tail`
    /// catches up on a backlog (after a restart, or on a slow or loaded machine) each poll stays short and the
    /// checkpoints keep their pace; a run that is stopped or killed soon after it started still records its
    /// progress.
    public var follow = FollowConfiguration(maxBytesPerStreamPerPoll: 1024 * 1024)
    /// Alert record format. Default ``AlertFormat/sendwatch``.
    public var alertFormat: AlertFormat = .sendwatch
    /// The product version written into OCSF records.
    public var productVersion = "0.1.0"

    /// Options that follow `patterns`, with every other setting at its default.
    public init(patterns: [String]) { self.patterns = patterns }
}
