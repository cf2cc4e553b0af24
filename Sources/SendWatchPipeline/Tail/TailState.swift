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
    /// The version in the checkpoint header (`state_format`); a checkpoint of another version is refused.
    /// 2: the detection state saves each rule's state under its name. 3: the time-jump run's last line; open
    /// alerts' records carry the accounts added and the template's logged id; the Postfix and Exim parsers key open
    /// messages by host (and Postfix instance) too, and each young account of the detection state keeps its
    /// submitters (logins, client IPs, claimed accounts); the parsers' counters save the lines of other programs;
    /// the Exim parser saves unjoined split lines; a template's state saves how many young accounts entered its
    /// suspicious-slot window (`slot_content` updates for a changing campaign); the
    /// configuration the state was built with (so that a restart names the changed keys). 4: open alerts'
    /// records carry their incident; `shared_artefact`'s artefacts save how many young accounts entered their
    /// window. 5: each young account of the detection state keeps its first recipients, recipient domains and
    /// queue ids (the alerts' `evidence.deliveries`); `concentrated_strangers`' accounts save their strangers
    /// (first contacts at a public domain); `shared_artefact`'s artefacts save whether a lone lure led with them.
    /// 6: open alerts save their lure artefacts (incidents link by them), `shared_artefact`'s artefacts the others
    /// named with them; the large arrays (recipient filters, sketches) are out of line, in the section files of
    /// ``CheckpointSectionStore`` that the header names (`sections_generation`). 7: the alert lifecycle saves the
    /// incidents (creation time, merged ids) and the closed alerts remembered for linking them; open alerts'
    /// records carry their merged incident ids. 8: `template_swarm` and `slot_content` save their own tables of
    /// templates (the swarm's spread young accounts, messages and baseline, and the (template, account) pairs;
    /// the slot rule's young accounts with suspicious values, arrivals and indicator counts) under their names;
    /// the shared templates keep only the text, the top suspicious slot values and the sample message ids; and
    /// `concentrated_strangers`' accounts save their strangers per provider, their recipients at their own or
    /// never-mailed domains and their provider-wave provider. 9: `shared_artefact` saves whether a lone artefact
    /// was made lone by a bare phone number (its reason's wording). 10: a young account of the detection state saves
    /// its message ids, submitters and deliveries as one `samples` object (one buffer in memory). 11: each
    /// stream's parsers are saved by format name with their own checkpoint version (``SavedParsers``), so that a
    /// new format or a parser's checkpoint change no longer raises this number. 12: `concentrated_strangers`'
    /// accounts save their held first recipient (``DetectionStateLayout/current``). Formats 11 and 10 are read and
    /// migrated (``migrations``).
    static let format = 12
    /// The older formats read and written again as ``format``: 11 with the detection state's layout before
    /// format 12 (``DetectionStateLayout/withoutOpenings``), 10 with that and its parsers saved by position.
    static let migrations = [
        StateMigration(format: 11, userInfo: DetectionStateLayout.withoutOpenings.userInfo),
        StateMigration.parsersByPosition(format: 10).adding(DetectionStateLayout.withoutOpenings.userInfo),
    ]
    /// The state formats read: ``format`` and those of ``migrations``.
    static let readFormats = [format] + migrations.map(\.format)

    var follower: FollowerState
    /// Per stream name: its parser state.
    var streams: [String: ParsingCheckpoint]
    var engine: DetectionEngine.Checkpoint
    var totals: TailTotals
    /// Event time already advanced to by the idle timer.
    var idleAdvancedTo: EventTime?
    /// The configuration the state was built with, as `sendwatch config defaults` would print it (a few KiB),
    /// so that a restart can name the keys changed since.
    var configuration: String
}

/// A checkpoint as read back: the state, the alert output's position it recorded, its sections with where they
/// are on disk, and its state format.
struct SavedCheckpoint {
    var state: TailState
    var outputPosition: Int64?
    var sections: StateSections
    var reference: CheckpointSectionStore.Reference?
    /// The state format the file has: ``TailState/format``, or an older one read to migrate it.
    var format: Int
}
