import SendWatchCore
import SendWatchDetect
import SendWatchIngest

/// Counters of a tail run, kept in the checkpoint so that metrics continue across restarts.
public struct TailTotals: Codable, Sendable, Equatable {
    /// Lines read.
    public var lines = 0
    /// Events parsed.
    public var events = 0
    /// Lines skipped, by reason.
    public var skipped: [String: Int] = [:]
    /// Alert records written, by rule.
    public var alertsByKind: [String: Int] = [:]
    /// Alert records written.
    public var alertRecords = 0
    /// Checkpoints written.
    public var checkpoints = 0
    /// Starts that resumed from a checkpoint.
    public var restarts = 0
    /// All zero.
    public init() {}
}

/// What the checkpoint's body holds: everything that decides future output, saved together at one instant
/// between two polls (so the file positions, the parsers' open messages, the detection state and the alert
/// lifecycle agree with each other).
struct TailState: Codable {
    /// The version in the checkpoint header (`state_format`); a checkpoint of another version is refused,
    /// except format 2, which is read (``Format2``) as a checkpoint that does not say its configuration.
    /// 2: the detection state saves each rule's state under its name. 3: the configuration is saved too.
    static let format = 3

    var follower: FollowerState
    /// Per stream name: its parser state.
    var streams: [String: ParsingCheckpoint]
    var engine: DetectionEngine.Checkpoint
    var totals: TailTotals
    /// Event time already advanced to by the idle timer.
    var idleAdvancedTo: EventTime?
    /// The configuration the state was built with, as `sendwatch config defaults` would print it (a few KiB),
    /// so that a restart can name the keys changed since; nil in a format 2 checkpoint.
    var configuration: String?

    /// A format 2 checkpoint's body: format 3 without ``configuration``.
    struct Format2: Codable {
        var follower: FollowerState
        var streams: [String: ParsingCheckpoint]
        var engine: DetectionEngine.Checkpoint
        var totals: TailTotals
        var idleAdvancedTo: EventTime?
    }
}

extension TailState {
    /// A format 2 checkpoint's state, with no configuration.
    init(_ old: Format2) {
        self.init(
            follower: old.follower, streams: old.streams, engine: old.engine, totals: old.totals,
            idleAdvancedTo: old.idleAdvancedTo, configuration: nil)
    }
}
