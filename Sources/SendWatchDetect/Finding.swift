public import SendWatchCore

/// What a detector reports each time its condition holds for a subject: the input to ``AlertLifecycle``,
/// which turns a stream of findings into `create`, `update` and `close` alert records.
public struct Finding: Sendable {
    /// The rule, e.g. `template_swarm`.
    public var kind: RuleName
    /// The subject within the detector: a template id, an account, a recipient domain. One open alert per
    /// (kind, key).
    public var key: String
    public var severity: Severity
    public var score: Double
    /// The log time of the first event of the evidence.
    public var firstEventTime: EventTime
    /// The implicated accounts, sorted, capped by the detector.
    public var accounts: [String] {
        get { listing?.names ?? listedAccounts }
        set {
            if let listing { accountSamples = listing.samples }
            listing = nil
            listedAccounts = newValue
        }
    }
    /// ``accounts`` when the finding has no ``listing``.
    private var listedAccounts: [String]
    public var accountsTotal: Int
    /// The messages (or recipients) counted in the evidence; growth of this drives updates.
    public var volume: Int
    public var template: AlertTemplate?
    /// The evidence entries, in order; rendered from ``text`` when the finding has one.
    public var evidence: [(String, JSONValue)] {
        get { text?.evidence() ?? storedEvidence }
        set {
            renderText()
            storedEvidence = newValue
        }
    }
    /// The reason sentences; rendered from ``text`` when the finding has one.
    public var reasons: [String] {
        get { text?.reasons() ?? storedReasons }
        set {
            renderText()
            storedReasons = newValue
        }
    }
    /// ``evidence`` when the finding has no ``text``.
    private var storedEvidence: [(String, JSONValue)]
    /// ``reasons`` when the finding has no ``text``.
    private var storedReasons: [String]
    /// The figures ``evidence`` and ``reasons`` are rendered from, for a finding that is likely to be held and
    /// replaced unread (a rule that makes one at every event of a firing subject): rendering happens only where
    /// the lifecycle reads them, a record it writes or a checkpoint. The figures are values taken when the
    /// finding was made, so a held finding says what it said then. `nil` for a finding built with its text.
    private var text: (any FindingText)?
    /// The lure artefacts the finding is about, as `StableHash.of` their keys (`phone:…`, `domain:…`, `text:…`):
    /// an alert created with one shares the incident of an open alert that has it (``AlertLifecycle``). Read
    /// when the finding is taken (the open alert keeps them), so a held finding does not save them.
    public var artefacts: [UInt64] = []

    /// The evidence samples of the listed accounts, taken by the engine with the finding; the lifecycle builds
    /// the `submitters` and `deliveries` entries from them only for a record it writes (``recordEvidence``).
    /// `nil` when ``evidence`` is complete: a finding made outside the engine, or restored from a checkpoint (which
    /// saves ``recordEvidence``).
    var accountSamples: AccountSamples?

    /// The accounts and their samples shared with the list a rule keeps (``ListedAccounts``), for a finding that
    /// is likely to be held and replaced unread: ``accounts`` and ``recordEvidence`` flatten it when read, the
    /// lifecycle reads them only for a record it writes or a checkpoint. When set, ``accountSamples`` is `nil`.
    var listing: ListedSnapshot?

    /// Replaces ``listing`` with the names and samples it holds, flattened once, for a finding whose
    /// ``accounts`` are about to be read more than once (a record written and its accounts linked).
    ///
    /// - Complexity: O(listed accounts) with a listing, O(1) without.
    mutating func flattenListing() {
        guard listing != nil else { return }
        accounts = accounts
    }

    /// The evidence of a record of this finding: ``evidence`` with the entries built from ``accountSamples``
    /// (``DetectionContext/accountEvidence(_:)``) before its last entry if that is `state`, else at the end.
    ///
    /// - Complexity: O(1) without samples; with them, that of ``DetectionContext/accountEvidence(_:)``.
    var recordEvidence: [(String, JSONValue)] {
        guard let samples = accountSamples ?? listing?.samples else { return evidence }
        var all = evidence
        let added = DetectionContext.accountEvidence(samples)
        if let last = all.last, last.0 == "state" {
            all.insert(contentsOf: added, at: all.count - 1)
        } else {
            all.append(contentsOf: added)
        }
        return all
    }

    /// Replaces ``text`` with the evidence and reasons it renders, before one of them is set.
    private mutating func renderText() {
        guard let text else { return }
        storedEvidence = text.evidence()
        storedReasons = text.reasons()
        self.text = nil
    }

    public init(
        kind: RuleName, key: String, severity: Severity, score: Double, firstEventTime: EventTime,
        accounts: [String], accountsTotal: Int, volume: Int, template: AlertTemplate?,
        evidence: [(String, JSONValue)], reasons: [String]
    ) {
        self.kind = kind
        self.key = key
        self.severity = severity
        self.score = score
        self.firstEventTime = firstEventTime
        listedAccounts = accounts
        self.accountsTotal = accountsTotal
        self.volume = volume
        self.template = template
        storedEvidence = evidence
        storedReasons = reasons
    }

    /// A finding whose ``evidence`` and ``reasons`` `text` renders when they are read.
    init(
        kind: RuleName, key: String, severity: Severity, score: Double, firstEventTime: EventTime,
        accounts: [String], accountsTotal: Int, volume: Int, template: AlertTemplate?, text: any FindingText
    ) {
        self.init(
            kind: kind, key: key, severity: severity, score: score, firstEventTime: firstEventTime,
            accounts: accounts, accountsTotal: accountsTotal, volume: volume, template: template, evidence: [],
            reasons: [])
        self.text = text
    }
}

/// The figures a rule renders a finding's evidence and reasons from, only where they are read
/// (``Finding/evidence``, ``Finding/reasons``). Every figure must be a value taken when the finding was made (a
/// copy-on-write sample, a count), so that rendering later gives what rendering at once would have.
///
/// A class (one allocation per finding, shared by its copies): an existential of a struct would make
/// ``Finding``, and the open alert that holds it, a type Swift copies through memory, and the lifecycle's
/// open-alert setter copies them several times per finding.
protocol FindingText: AnyObject, Sendable {
    /// The finding's evidence entries, in order.
    func evidence() -> [(String, JSONValue)]
    /// The finding's reason sentences.
    func reasons() -> [String]
}
