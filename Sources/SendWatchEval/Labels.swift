public import SendWatchCore

/// The ground truth an alert file is scored against: when the warm-up ends, which accounts are abusive
/// (grouped into incidents) and which are legitimate look-alikes.
///
/// The schema is the one `sendwatch simulate` writes (see `SimulationLabels`), one JSON object:
/// ```json
/// {"warmup_end": "2026-11-29T07:15:00Z",
///  "incidents": [{"id": "swarm-1", "kind": "tenant-swarm", "accounts": ["t-1", "t-2"],
///                 "start": "2026-11-29T07:35:04Z", "end": "2026-11-29T08:38:46Z",
///                 "first_send": {"t-1": "2026-11-29T07:35:04Z"}}],
///  "hard_negatives": [{"id": "newsletter-1", "kind": "newsletter", "accounts": ["news@shop.example"]}],
///  "abusive_accounts": ["t-1", "t-2"]}
/// ```
/// Required: `warmup_end`, `incidents`, `hard_negatives`, `abusive_accounts` (the lists may be empty); per
/// incident `id`, `kind`, `accounts` (non-empty), `start`; per look-alike `id`, `kind`, `accounts`. Optional:
/// an incident's `end` and `first_send` (checked when present), and the top-level `end`, which sets the
/// labelled duration for alerts per day. A key that looks like a misspelt schema key (`frist_send`,
/// `hard_negative`, `Accounts`: at most two edits away, or another case) is an error; any other key is allowed;
/// top-level extra keys (`scenario`, `seed`,
/// `format`, `start`, ...) are kept as ``metadata`` and shown in the report. Times are RFC 3339 with or
/// without a fraction, `Z` or an offset (see ``RFC3339``). Incident ids must be unique.
///
/// Inconsistencies that do not make scoring impossible (an incident account missing from
/// `abusive_accounts`, an abusive account in a look-alike group) are reported in ``warnings``.
public struct Labels: Sendable, Equatable {
    /// One labelled attack.
    public struct Incident: Sendable, Equatable {
        public var id: String
        public var kind: String
        /// The incident's accounts, sorted, without duplicates.
        public var accounts: [String]
        /// When the incident began (event time); detection latency is measured from here.
        public var start: EventTime
        /// When it ended, if labelled.
        public var end: EventTime?
        /// Each account's first send, if labelled (sorted by account).
        public var firstSend: [AccountTime]

        public init(
            id: String, kind: String, accounts: [String], start: EventTime, end: EventTime? = nil,
            firstSend: [AccountTime] = []
        ) {
            self.id = id
            self.kind = kind
            self.accounts = Array(Set(accounts)).sorted()
            self.start = start
            self.end = end
            self.firstSend = firstSend
        }
    }

    /// An account and a time.
    public struct AccountTime: Sendable, Equatable {
        public var account: String
        public var time: EventTime
    }

    /// One group of legitimate look-alike accounts: flagging any of them is a false positive.
    public struct HardNegative: Sendable, Equatable {
        public var id: String
        public var kind: String
        /// Sorted, without duplicates.
        public var accounts: [String]

        public init(id: String, kind: String, accounts: [String]) {
            self.id = id
            self.kind = kind
            self.accounts = Array(Set(accounts)).sorted()
        }
    }

    /// A top-level key the scorer does not use, shown in the report.
    public struct MetadataEntry: Sendable, Equatable {
        public var key: String
        /// The value as text: strings unquoted, numbers and booleans as written, containers summarised.
        public var value: String
    }

    /// Alerts before this time are warm-up alerts, reported separately and not scored.
    public var warmupEnd: EventTime
    public var incidents: [Incident]
    public var hardNegatives: [HardNegative]
    /// Sorted, without duplicates.
    public var abusiveAccounts: [String]
    /// The end of the labelled traffic (top-level `end`), if given.
    public var end: EventTime?
    /// Extra top-level keys, sorted by key; at most ``maxMetadataEntries``, values cut to
    /// ``maxMetadataValueLength`` characters.
    public var metadata: [MetadataEntry]
    /// Inconsistencies found while reading, at most ``maxWarnings`` (then one line saying how many more).
    public var warnings: [String]

    /// Extra keys beyond this are dropped (and a warning says so).
    public static let maxMetadataEntries = 16
    public static let maxMetadataValueLength = 60
    public static let maxWarnings = 20

    public init(
        warmupEnd: EventTime, incidents: [Incident], hardNegatives: [HardNegative], abusiveAccounts: [String],
        end: EventTime? = nil, metadata: [MetadataEntry] = []
    ) {
        self.warmupEnd = warmupEnd
        self.incidents = incidents
        self.hardNegatives = hardNegatives
        self.abusiveAccounts = Array(Set(abusiveAccounts)).sorted()
        self.end = end
        self.metadata = metadata
        self.warnings = []
        self.warnings = Labels.consistencyWarnings(
            incidents: incidents, hardNegatives: hardNegatives, abusive: Set(abusiveAccounts))
    }

    /// Reads labels from the bytes of a labels file.
    ///
    /// - Throws: ``EvaluationError`` with code `invalidLabels`, naming the key path (e.g.
    ///   `incidents[1].start`) of the first problem.
    /// - Complexity: O(n log n) in the number of labelled accounts.
    public static func parse(_ bytes: some Collection<UInt8>) throws(EvaluationError) -> Labels {
        let makeError: (String) -> EvaluationError = { EvaluationError(code: .invalidLabels, message: "labels: \($0)") }
        let root: JSONNode
        switch JSONNode.parse(bytes) {
        case .success(let node): root = node
        case .failure(let e): throw makeError(e.reason)
        }
        let top = try JSONFields(root, path: "", makeError: makeError)
        try top.rejectMisspellings(of: ["warmup_end", "incidents", "hard_negatives", "abusive_accounts", "end"])
        let warmupEnd = try top.time("warmup_end")

        var incidents: [Incident] = []
        var seenIDs = Set<String>()
        for (i, node) in try top.array("incidents").enumerated() {
            let f = try JSONFields(node, path: "incidents[\(i)]", makeError: makeError)
            try f.rejectMisspellings(of: ["id", "kind", "accounts", "start", "end", "first_send"])
            let id = try f.string("id")
            guard seenIDs.insert(id).inserted else { throw makeError("'incidents[\(i)].id': duplicate id '\(id)'") }
            let accounts = try f.stringArray("accounts")
            guard !accounts.isEmpty else { throw makeError("'incidents[\(i)].accounts' is empty") }
            var incident = Incident(id: id, kind: try f.string("kind"), accounts: accounts, start: try f.time("start"))
            if f.has("end") { incident.end = try f.time("end") }
            if f.has("first_send") {
                let fs = try JSONFields(
                    try f.require("first_send"), path: f.keyPath("first_send"), makeError: makeError)
                var pairs: [AccountTime] = []
                for account in fs.object.keys.sorted() {
                    pairs.append(AccountTime(account: account, time: try fs.time(account)))
                }
                incident.firstSend = pairs
            }
            incidents.append(incident)
        }

        var hardNegatives: [HardNegative] = []
        for (i, node) in try top.array("hard_negatives").enumerated() {
            let f = try JSONFields(node, path: "hard_negatives[\(i)]", makeError: makeError)
            try f.rejectMisspellings(of: ["id", "kind", "accounts"])
            hardNegatives.append(
                HardNegative(
                    id: try f.string("id"), kind: try f.string("kind"), accounts: try f.stringArray("accounts")))
        }
        let abusive = try top.stringArray("abusive_accounts")
        let end: EventTime? = top.has("end") ? try top.time("end") : nil

        let known: Set<String> = ["warmup_end", "incidents", "hard_negatives", "abusive_accounts"]
        let extraKeys = top.object.keys.filter { !known.contains($0) }.sorted()
        var metadata: [MetadataEntry] = []
        for key in extraKeys.prefix(maxMetadataEntries) {
            // Safe to force unwrap: `key` was taken from the object's own keys.
            let text = top.object[key]!.displayText
            let shown =
                text.count > maxMetadataValueLength ? String(text.prefix(maxMetadataValueLength - 1)) + "…" : text
            metadata.append(MetadataEntry(key: key, value: shown))
        }
        var labels = Labels(
            warmupEnd: warmupEnd, incidents: incidents, hardNegatives: hardNegatives, abusiveAccounts: abusive,
            end: end, metadata: metadata)
        if extraKeys.count > maxMetadataEntries {
            labels.warnings.append("\(extraKeys.count - maxMetadataEntries) more extra top-level keys not shown")
        }
        return labels
    }

    private static func consistencyWarnings(
        incidents: [Incident], hardNegatives: [HardNegative], abusive: Set<String>
    ) -> [String] {
        var warnings: [String] = []
        var more = 0
        func warn(_ text: String) {
            if warnings.count < maxWarnings { warnings.append(text) } else { more += 1 }
        }
        for incident in incidents {
            let missing = incident.accounts.filter { !abusive.contains($0) }
            if !missing.isEmpty {
                warn(
                    "incident '\(incident.id)': \(missing.count) account(s) not in abusive_accounts, e.g. '\(missing[0])'"
                )
            }
            for pair in incident.firstSend where !incident.accounts.contains(pair.account) {
                warn("incident '\(incident.id)': first_send names '\(pair.account)', which is not one of its accounts")
                break
            }
        }
        for group in hardNegatives {
            let both = group.accounts.filter { abusive.contains($0) }
            if !both.isEmpty {
                warn(
                    "look-alike '\(group.id)': \(both.count) account(s) also abusive, e.g. '\(both[0])'; scored as abusive"
                )
            }
        }
        if more > 0 { warnings.append("\(more) more label warnings") }
        return warnings
    }
}
