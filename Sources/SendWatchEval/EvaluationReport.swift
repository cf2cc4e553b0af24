public import SendWatchCore

/// The scores of one alert file against one set of labels.
///
/// Definitions (all times are event times; "record" is one alert line, an "alert" is one distinct `id`):
///
/// - **Scored records**: records with `event_time` ≥ `warmup_end`. Records before it are *warm-up* records:
///   counted (``warmupRecords``, ``warmupAlerts``, ``warmupAccounts``) and otherwise ignored, even when they
///   name look-alikes (a simulated look-alike that starts at the run's start can be named there).
/// - **Flagged accounts** F: the union of the `accounts` listed by scored records of every action (`create`,
///   `update`, `close`). Only listed accounts count, never `accounts_total`. **Abusive** A: the labels'
///   `abusive_accounts`. **Precision** = |F ∩ A| / |F| and **recall** = |F ∩ A| / |A|. When the denominator is
///   0 the value is 1 if the other set is empty too (nothing to find and nothing claimed), else n/a (nil).
/// - **Incident detected**: some scored record lists at least one of the incident's accounts. **Latency** =
///   the earliest `event_time` of such a record − the incident's `start`, in seconds (negative if an account
///   was flagged before the labelled start). **Accounts flagged**: the incident's accounts in F, and their share.
/// - **SendWatch incidents** of a labelled incident: the distinct `incident` ids of the scored records that
///   list one of its accounts, after joining ids that a record's `merged_incidents` (schema v5) names as merged
///   into its `incident`. 1 is the goal: the campaign is one incident; more is a **split** campaign. A labelled
///   incident **shares** an id when one of its SendWatch incidents also holds another labelled incident's
///   accounts (two waves with the same lures, or accounts listed together by one rule, are merged).
/// - **Median latency**: over the detected incidents of a kind, and over all detected incidents; the mean of
///   the two middle values for an even count; n/a when none is detected. Missed incidents are not in the
///   median: they show in *incidents detected*.
/// - **Look-alike false positives**: per `hard_negatives` group, its accounts in F that are not abusive;
///   ``lookAlikeAccountsFlagged`` counts distinct such accounts over all groups. **Unlabelled** false
///   positives: accounts in F that are neither abusive nor in any look-alike group.
/// - **Clean alerts per day**: distinct alert ids among scored records none of whose scored records lists an
///   abusive account (an alert listing no account is clean), divided by the labelled duration in days: the
///   labels' top-level `end` − `warmup_end` when `end` is given, else the latest `event_time` of any record −
///   `warmup_end` (``durationSource``); n/a when that duration is not positive.
public struct EvaluationReport: Sendable, Equatable {
    /// Accounts listed per look-alike group and for unlabelled false positives, at most.
    public static let maxSampleAccounts = 10

    public struct BadLine: Sendable, Equatable {
        /// 1-based line number in the alert file.
        public var line: Int
        public var reason: String
    }

    public struct IncidentResult: Sendable, Equatable {
        public var id: String
        public var kind: String
        /// The incident's labelled accounts.
        public var accounts: Int
        /// How many of them are flagged.
        public var accountsFlagged: Int
        public var start: EventTime
        /// The earliest scored record listing one of its accounts.
        public var firstAlertTime: EventTime?
        /// `firstAlertTime − start`, seconds.
        public var latencySeconds: Double?
        public var firstAlertID: String?
        public var firstAlertKind: String?
        /// Distinct SendWatch incidents (merged ids joined) among the scored records listing its accounts; the
        /// incidents of aggregate alerts (``AlertRecord/aggregate``) count only when no other alert lists them.
        public var sendWatchIncidents = 0
        /// The other labelled incidents that share one of its SendWatch incidents, sorted.
        public var sharesIncidentWith: [String] = []

        public var detected: Bool { firstAlertTime != nil }
        /// `accountsFlagged / accounts`.
        public var shareFlagged: Double { accounts == 0 ? 0 : Double(accountsFlagged) / Double(accounts) }
    }

    public struct KindLatency: Sendable, Equatable {
        public var kind: String
        public var incidents: Int
        public var detected: Int
        public var medianLatencySeconds: Double?
    }

    public struct LookAlikeResult: Sendable, Equatable {
        public var id: String
        public var kind: String
        public var accounts: Int
        public var flagged: Int
        /// The first flagged accounts, sorted, at most ``EvaluationReport/maxSampleAccounts``.
        public var flaggedSample: [String]
    }

    /// Where the clean-traffic duration comes from.
    public enum DurationSource: String, Sendable, Equatable {
        /// The labels' `end` − `warmup_end`.
        case labelsEnd = "labels_end"
        /// The latest alert `event_time` − `warmup_end` (labels without `end`).
        case lastAlert = "last_alert"
        /// No `end` and no alert: no duration.
        case none
    }

    // Labels.
    public var warmupEnd: EventTime
    public var labelsEnd: EventTime?
    public var metadata: [Labels.MetadataEntry]
    public var labelWarnings: [String]

    // Input.
    /// Lines read, blank ones included.
    public var lines = 0
    /// Valid records.
    public var records = 0
    public var badLines = 0
    /// The first bad lines (see ``Evaluation/Limits/maxBadLineExamples``).
    public var badLineExamples: [BadLine] = []
    public var warmupRecords = 0
    public var warmupAlerts = 0
    public var warmupAccounts = 0
    /// Warm-up accounts that are abusive (an attack the labels place before `warmup_end`?).
    public var warmupAbusiveAccounts = 0
    public var scoredRecords = 0
    public var scoredAlerts = 0

    // Accounts.
    public var flaggedAccounts = 0
    public var abusiveAccounts = 0
    public var truePositiveAccounts = 0
    public var precision: Double?
    public var recall: Double?

    // Incidents.
    public var incidents: [IncidentResult] = []
    /// Sorted by kind.
    public var latencyByKind: [KindLatency] = []
    public var medianLatencySeconds: Double?
    public var incidentsDetected: Int { incidents.filter(\.detected).count }
    /// Labelled incidents spread over more than one SendWatch incident.
    public var incidentsSplit: Int { incidents.filter { $0.sendWatchIncidents > 1 }.count }
    /// Labelled incidents that share a SendWatch incident with another labelled incident.
    public var incidentsSharing: Int { incidents.filter { !$0.sharesIncidentWith.isEmpty }.count }

    // False positives.
    public var lookAlikes: [LookAlikeResult] = []
    public var lookAlikeAccountsFlagged = 0
    public var unlabelledAccountsFlagged = 0
    public var unlabelledSample: [String] = []

    // Clean traffic.
    public var cleanAlerts = 0
    public var durationSeconds: Double?
    public var durationSource: DurationSource = .none
    public var cleanAlertsPerDay: Double?

    /// Caps reached while scoring; non-empty means some figures are incomplete.
    public var warnings: [String] = []

    public init(labels: Labels) {
        warmupEnd = labels.warmupEnd
        labelsEnd = labels.end
        metadata = labels.metadata
        labelWarnings = labels.warnings
    }
}
