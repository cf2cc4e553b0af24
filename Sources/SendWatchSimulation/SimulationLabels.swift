public import SendWatchCore

/// The ground truth of a run: when the warm-up ends, which accounts are abusive (grouped into incidents)
/// and which are legitimate look-alikes, written as one JSON object.
///
/// Schema (times RFC 3339 UTC; accounts as SendWatch resolves them: the `X-Account-Id` value when present,
/// else the SASL user; lists sorted):
/// ```json
/// {"warmup_end": T,
///  "incidents": [{"id": "tenant-swarm-1", "kind": "tenant-swarm", "accounts": [...], "start": T, "end": T,
///                 "first_send": {"account": T, ...}}],
///  "hard_negatives": [{"id": "newsletter-1", "kind": "newsletter", "accounts": [...]}],
///  "abusive_accounts": [...],
///  "scenario": "tenant-swarm", "seed": 7, "format": "postfix", "start": T, "end": T}
/// ```
/// An incident's `start` is its earliest `first_send`, its `end` the time of its last event; `first_send` is
/// the time of the account's first event as SendWatch reads it (first delivery attempt for Postfix and Exim,
/// `ts` for JSON lines, at the log's precision). Accounts whose burst fell after the end of the run sent
/// nothing and are left out; so is an incident with no account left.
public struct SimulationLabels: Sendable {
    /// One labelled group.
    public struct Group: Sendable {
        public var id: String
        public var kind: BurstKind
        /// Accounts that sent, sorted.
        public var accounts: [String]
        /// First event per account (same order as ``accounts``).
        public var firstSend: [EventTime]
        /// The group's first and last event.
        public var start: EventTime
        public var end: EventTime
    }

    /// The end of the warm-up: background-only, except plans that start at the run's start
    /// (`BurstPlan.startsAtRunStart`).
    public var warmupEnd: EventTime
    /// Attack groups.
    public var incidents: [Group]
    /// Look-alike groups.
    public var hardNegatives: [Group]
    /// Every incident account, sorted.
    public var abusiveAccounts: [String]
    /// Run metadata.
    public var scenario: String
    public var seed: UInt64
    public var format: SimulationFormat
    public var start: EventTime
    public var end: EventTime

    /// Writes the `id`, `kind` and `accounts` every labelled group has.
    static func writeGroupFields(_ g: Group, to w: inout JSONWriter) {
        w.key("id"); w.string(g.id)
        w.key("kind"); w.string(g.kind.rawValue)
        w.key("accounts"); w.strings(g.accounts)
    }

    /// The labels as one JSON object followed by a newline.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 64 * 1024)
        w.beginObject()
        w.key("warmup_end"); w.time(warmupEnd)
        w.objects("incidents", incidents) { w, g in
            Self.writeGroupFields(g, to: &w)
            w.key("start"); w.time(g.start)
            w.key("end"); w.time(g.end)
            w.object("first_send") { w in
                for (a, t) in zip(g.accounts, g.firstSend) {
                    w.key(dynamic: a); w.time(t)
                }
            }
        }
        w.objects("hard_negatives", hardNegatives) { w, g in Self.writeGroupFields(g, to: &w) }
        w.key("abusive_accounts"); w.strings(abusiveAccounts)
        w.key("scenario"); w.string(scenario)
        w.key("seed"); w.int64(Int64(bitPattern: seed))
        w.key("format"); w.string(format.rawValue)
        w.key("start"); w.time(start)
        w.key("end"); w.time(end)
        w.endObject()
        w.newline()
        return w.bytes
    }
}
