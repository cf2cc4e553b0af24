import SendWatchCore
import SendWatchWindows

/// `account_rate`: the naive per-account rate limit that the other rules are compared with (off by default).
/// Any account, old or young, with more than ``Configuration/limit`` recipients in the window.
///
/// Memory: its table of accounts takes 5 % of the detection memory budget (at most 500,000 entries); at a
/// bound the account updated least recently is evicted and starts over.
public struct AccountRateRule: ConfiguredRule, Sendable {
    /// The settings of `rules.account_rate`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = false
        /// The window. Default 1 hour.
        public var windowSeconds: Int64 = 3600
        /// Recipients per window above which it fires. Default 100.
        public var limit = 100
        public init() {}
    }

    /// One account's recipients in the window.
    struct State: ApproximateHeapSize, Sendable, Codable {
        var count: SlidingCount
        var first: EventTime
        var approximateHeapBytes: Int { count.approximateHeapBytes }
    }

    /// The rule's name.
    public static let name = RuleName("account_rate")
    let configuration: Configuration
    var table: RuleTable<State>
}

extension AccountRateRule: TableRule {
    static let summary = "the naive per-account rate limit, for comparison"
    static let keys: [ConfigKey<Configuration>] = [
        .integer(
            "limit", \.limit, in: 1...100_000_000,
            doc: "Recipients of one account, old or young, per window above which it fires.")
    ]
    static var trigger: RuleTrigger { .everyEvent }
    static var budgetShare: BudgetShare? { BudgetShare(1, of: 20) }
    static var tableName: String { "account rates" }

    init(configuration: Configuration, limits: RuleLimits) {
        self.configuration = configuration
        table = RuleTable(maxEntries: 500_000, maxBytes: limits.maxBytes)
    }

    func fits(_ entry: State) -> Bool {
        entry.count.covers(windowSeconds: configuration.windowSeconds)
    }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        let rule = configuration
        let now = event.time
        let slot = table.entries.slot(for: facts.accountKey, at: now, name: event.account) {
            State(count: SlidingCount(windowSeconds: rule.windowSeconds), first: now)
        }
        table.report(to: &context)
        table.entries[slot].count.add(1, at: now)
        let state = table.entries[slot]
        let n = Int(state.count.value(at: now))
        guard n > rule.limit else { return }
        let finding = Finding(
            kind: Self.name, key: event.account, severity: .medium, score: Double(n) / Double(rule.limit),
            firstEventTime: state.first, accounts: [event.account], accountsTotal: 1, volume: n, template: nil,
            evidence: [
                ("recipients", .int(n)), ("window", .string(DurationText.format(rule.windowSeconds))),
                ("limit", .int(rule.limit)), context.stateEvidence(approximate: false),
            ],
            reasons: [
                "Account \(event.account) sent to \(n) recipients in \(DurationText.format(rule.windowSeconds)) "
                    + "(limit \(rule.limit))."
            ])
        context.take(finding, at: now, into: &alerts)
    }
}
