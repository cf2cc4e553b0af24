import SendWatchCore
import SendWatchWindows

/// `slot_content`: a template's slot values from young accounts carry what a name field should not.
///
/// What counts as suspicious is ``SlotContent``'s classification at this rule's `min_score`; the template's top
/// suspicious values are the template's shared features (`TemplateState`), which `template_swarm` reads too. The
/// rule keeps its own table of templates with suspicious values (``State``): their young accounts with
/// suspicious values in the window, how many entered it, and the count of each indicator.
///
/// Memory: its table takes 5 % of the detection memory budget (at most 50,000 templates); at a bound the
/// template updated least recently is evicted and starts over.
///
/// A campaign that runs longer than the window keeps its alert current: the finding's volume is the number
/// of young accounts that ever entered the template's suspicious window, which grows with every new account
/// even while the windowed count stays flat (old accounts leave as new ones come). So the alert lifecycle
/// sends an update, listing the window's accounts, at most every `min_update_interval` (10 minutes) while new
/// accounts arrive. The finding is rebuilt at each new account (arrivals are rare next to sends, so this is
/// cheap), and a finding held back by the interval is emitted when it ends (``AlertLifecycle/emitHeld(at:)``),
/// so each account of the campaign reaches an alert within the interval plus a minute of its first suspicious
/// send. Bound: the accounts are listed while the window holds at most `max_alert_accounts` of them (the
/// distinct counter is exact up to there; beyond, alerts carry the estimated count and no names).
public struct SlotContentRule: ConfiguredRule, Sendable {
    /// The settings of `rules.slot_content`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = true
        /// The window. Default 6 hours.
        public var windowSeconds: Int64 = 6 * 3600
        /// Distinct young accounts with suspicious slot values in the window that fire. Default 3.
        public var minYoungAccounts = 3
        /// The least ``SlotContent/score(_:)`` that makes a slot value suspicious. Default 2 (one strong
        /// indicator such as a URL or phone number, or two weaker ones).
        public var minScore = 2.0
        public init() {}
    }

    /// One template's suspicious slot values from young accounts.
    struct State: ApproximateHeapSize, YoungCountEntry, Sendable {
        /// Young accounts whose slot values are suspicious, in the window.
        var young: SlidingDistinct
        /// The template's first event with a suspicious slot value.
        var first: EventTime
        /// Events per indicator of their suspicious slot values.
        var indicatorCounts: [String: Int] = [:]
        /// Young accounts that entered ``young`` so far (a new account, or one back after a full window): never
        /// decreases, so a campaign whose windowed count stays flat while its accounts change still shows as
        /// growing (the alert's volume). Counts only while ``young`` is exact; in sketch mode its accounts
        /// cannot be listed anyway.
        var arrivals = 0

        var approximateHeapBytes: Int { young.approximateHeapBytes + indicatorCounts.count * 48 }
    }

    /// The rule's name.
    public static let name = RuleName("slot_content")
    let configuration: Configuration
    var table: RuleTable<State>
    /// The window and exact capacity of ``State/young``.
    let young: SlidingDistinct.Configuration
}

extension SlotContentRule: YoungCountTableRule {
    static let summary = "young accounts put URLs, phone numbers, money ... into a template slot"
    static let windowDoc = "The window of the young accounts with suspicious slot values."
    static let keys: [ConfigKey<Configuration>] = [
        .minYoungAccounts(
            doc: "Distinct young accounts with suspicious slot values on one template in the window that fire."),
        .number(
            "min_score", \.minScore, in: 0.5...100,
            doc: "The least indicator score of a suspicious slot value (a URL or a phone number scores 2)."),
    ]
    static var trigger: RuleTrigger { .templateUse }
    static var budgetShare: BudgetShare? { BudgetShare(1, of: 20) }
    static var tableName: String { "suspicious templates" }
    static var maxEntries: Int { 50_000 }
    static var youngCapacity: KeyPath<RuleLimits, Int> { \.listedCapacity }

    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        features.suspiciousWindowSeconds = configuration.windowSeconds
        features.minSlotScore = configuration.minScore
        if configuration.enabled { features.learnsTemplates = true }
    }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        guard let use = facts.template, use.suspicious else { return }
        let template = use.template
        let rule = configuration
        let now = event.time
        let young = young
        let slot = table.entries.slot(for: use.key, at: now, name: template.id) {
            State(young: SlidingDistinct(configuration: young), first: now)
        }
        table.report(to: &context)
        if table.entries[slot].young.insert(facts.accountKey, at: now) { table.entries[slot].arrivals += 1 }
        for name in use.indicators.names { table.entries[slot].indicatorCounts[name, default: 0] += 1 }
        let own = table.entries[slot]
        let state = context.tables.templates[use.slot]
        let distinct = own.young.value(at: now)
        let count = Int(distinct.value)
        guard count >= rule.minYoungAccounts else { return }
        let strongest = state.topSlots.map { SlotContent.score($0.indicators) }.max() ?? 0
        let severity: Severity = count >= 4 * rule.minYoungAccounts ? .critical : strongest >= 4 ? .high : .medium
        let arrivals = own.arrivals
        guard
            context.wants(
                Self.name, key: template.id, severity: severity, accountsTotal: count,
                volume: arrivals, at: now, refreshVolume: true)
        else { return }
        let accounts = context.accountNames(own.young, at: now)
        var evidence = DetectionContext.youngAccountsEvidence(
            distinct, windowSeconds: rule.windowSeconds, threshold: .int(rule.minYoungAccounts))
        evidence += [
            ("min_slot_score", .double(rule.minScore)),
            ("indicators", .object(own.indicatorCounts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        let slots = context.slotEvidence(state, template: template, at: now)
        evidence.append(("top_suspicious_slot_values", slots.value))
        evidence.append(contentsOf: context.ageEvidence(accounts, at: now))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        evidence.append(context.stateEvidence(approximate: !distinct.isExact || slots.approximate))
        let names = SlotIndicators(rawValue: state.topSlots.reduce(0) { $0 | $1.indicators.rawValue }).names
        let finding = Finding(
            kind: Self.name, key: template.id, severity: severity, score: Double(count) * max(1, strongest),
            firstEventTime: own.first,
            accounts: Array(accounts.prefix(context.maxAlertAccounts)),
            accountsTotal: max(count, accounts.count), volume: arrivals, template: template, evidence: evidence,
            reasons: [
                "\(count) young accounts put text with \(names.joined(separator: ", ")) into a slot of the template "
                    + "\"\(template.text)\" in \(DurationText.format(rule.windowSeconds)) (threshold "
                    + "\(rule.minYoungAccounts)), e.g. \"\(state.topSlots.max { $0.count < $1.count }?.value ?? "")\"."
            ])
        context.take(finding, at: now, into: &alerts)
    }
}

extension SlotContentRule.State: Codable {
    enum CodingKeys: String, CodingKey {
        case young, first, indicatorCounts, arrivals
    }

    /// Restores a template's state; the indicator counts come as two parallel arrays, sorted by name
    /// (``SortedColumns``).
    init(from decoder: any Decoder) throws {
        // Fields are decoded in the order of `CodingKeys`, the order `encode(to:)` writes them (positional coders
        // rely on it).
        let c = try decoder.container(keyedBy: CodingKeys.self)
        young = try c.decode(SlidingDistinct.self, forKey: .young)
        first = try c.decode(EventTime.self, forKey: .first)
        let counts = try c.decode(SortedColumns<String, Int64>.self, forKey: .indicatorCounts)
        let arrivals = try c.decode(Int64.self, forKey: .arrivals)
        try StateCheck.require(
            counts.values.allSatisfy(StateCheck.isCount) && StateCheck.isCount(arrivals),
            "slot_content: count out of range", decoder)
        indicatorCounts = counts.dictionary.mapValues { Int($0) }
        self.arrivals = Int(arrivals)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(young, forKey: .young)
        try c.encode(first, forKey: .first)
        try c.encode(SortedColumns(indicatorCounts.mapValues { Int64($0) }), forKey: .indicatorCounts)
        try c.encode(Int64(arrivals), forKey: .arrivals)
    }
}

extension SlotContentRule.Configuration: YoungAccountsThreshold {}
