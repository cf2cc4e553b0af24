import SendWatchCore
import SendWatchTemplates
import SendWatchWindows

/// When the engine hands an event to a rule.
///
/// Only the rules of ``everyEvent`` see an established account's event, the common case; the engine keeps the
/// rules of each trigger in their own list, so an event costs nothing for the triggers it does not reach.
enum RuleTrigger: Sendable {
    /// Every event on time, before the account's age is known (`account_rate`).
    case everyEvent
    /// Each young account's event, once the account's recent sending (``EventFacts/young``) is updated.
    case youngAccount
    /// Each young account's event with a template, once the template's features (``EventFacts/template``)
    /// are updated.
    case templateUse
    /// Each young account's event, after the template rules.
    case youngEvent
}

/// What the rules of the engine's table share need to size themselves.
struct RuleLimits: Sendable {
    /// The rule's bytes of the memory budget (0 when the rule declares no ``DetectionRule/budgetShare``).
    var maxBytes: Int
    /// ``DetectionConfiguration/maxAlertAccounts``.
    var maxAlertAccounts: Int

    /// The exact capacity of a distinct count of young accounts per template (`template_swarm`,
    /// `slot_content`): every account an alert may list, at least 16.
    var listedCapacity: Int { max(16, maxAlertAccounts) }
    /// The exact capacity of a distinct count of young accounts per recipient, artefact or stranger group: as
    /// ``listedCapacity``, but at most 256, as those tables hold many more keys than there are templates.
    var perKeyCapacity: Int { max(16, min(maxAlertAccounts, 256)) }
}

extension SlidingDistinct.Configuration {
    /// A distinct count over the last `windowSeconds` (a rule's window setting) that stays exact up to
    /// `exactCapacity` items: how every rule sizes its distinct counts of young accounts.
    init(windowSeconds: Int64, exactCapacity: Int) {
        self.init(horizonMicroseconds: windowSeconds * 1_000_000, exactCapacity: exactCapacity)
    }
}

extension SlidingCount {
    /// An empty count over the last `windowSeconds` (a rule's window setting) in
    /// ``DetectionEngine/windowBuckets`` buckets: how every rule sizes its sliding counts.
    init(windowSeconds: Int64) {
        self.init(horizonMicroseconds: windowSeconds * 1_000_000, bucketCount: DetectionEngine.windowBuckets)
    }

    /// Whether the count has the window and buckets ``init(windowSeconds:)`` gives: a saved count that fits the
    /// settings.
    func covers(windowSeconds: Int64) -> Bool {
        horizonMicroseconds == windowSeconds * 1_000_000 && bucketCount == DetectionEngine.windowBuckets
    }
}

/// A detection rule: one folder under `Rules/`, registered once in ``RuleRegistry``.
///
/// A rule declares its name, its configuration keys (section `rules.<name>`, with defaults, ranges and docs),
/// when it runs, its share of the memory budget and its checkpoint; it keeps its own per-key state and builds
/// its findings' evidence and reasons. What several rules read is computed once per event by the engine and
/// handed over as ``EventFacts`` and ``DetectionContext``: the account's age, the young account's recent
/// sending, the template and its features, the alert lifecycle. A rule never reads another rule; a fact two
/// rules need lives in the shared features (``YoungAccountState``, ``TemplateState``), and the settings those
/// features take come from the rules through ``contribute(_:to:)``; what only one rule reads is in that rule's
/// own tables (``RuleTable``), even when keyed like a shared table (`template_swarm`'s and `slot_content`'s
/// tables of templates).
///
/// The engine calls rules through the existential (one dynamic call per rule and young event); the common
/// event, an established account's, reaches only the ``RuleTrigger/everyEvent`` rules.
protocol DetectionRule: ConfiguredRule, Sendable {
    associatedtype Checkpoint: Codable & Sendable = NoRuleState

    /// The rule's name: its configuration section, alert kind and checkpoint key.
    static var name: RuleName { get }
    /// One line on what the rule finds, printed above its configuration section.
    static var summary: String { get }
    /// The doc of the rule's `window` key. Default "The window.".
    static var windowDoc: String { get }
    /// The keys of `rules.<name>` besides `enabled` and `window` (which every rule has, in that order before
    /// these), in documentation order.
    static var keys: [ConfigKey<Configuration>] { get }
    /// When the rule sees events.
    static var trigger: RuleTrigger { get }
    /// The share of the memory budget for the rule's own table; `nil` when it keeps none.
    static var budgetShare: BudgetShare? { get }
    /// Sets what the shared features take from this rule's settings (windows, thresholds); called for every
    /// registered rule, enabled or not, before the engine is built.
    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings)

    /// A rule with empty state.
    init(configuration: Configuration, limits: RuleLimits)
    /// A rule with saved state, which must fit `configuration` and `limits`.
    ///
    /// - Throws: ``DetectionCheckpointError`` naming what does not fit.
    init(configuration: Configuration, limits: RuleLimits, restoring: Checkpoint) throws(DetectionCheckpointError)
    /// The rule's state, for the engine's checkpoint.
    func checkpoint() -> Checkpoint

    /// Approximate bytes of the rule's own tables.
    var approximateBytes: Int { get }
    /// Entries evicted from the rule's own tables so far.
    var evictions: UInt64 { get }
    /// Evicts from the rule's tables while over their byte bound; called once per young event.
    mutating func enforceBudget(_ context: inout DetectionContext)

    /// Evaluates one event; appends the alert records it causes to `alerts` (through
    /// ``DetectionContext/take(_:at:into:)``).
    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert])

    /// Whether the rule learns from established accounts' events with a template in the last quarter of the
    /// warm-up (``warmUp(_:_:_:_:)``), e.g. to seed a baseline; such an event then teaches the template miner
    /// too. Default `false`.
    static var learnsInWarmup: Bool { get }
    /// Learns from an established account's event with a template in the last quarter of the warm-up; finds
    /// nothing.
    mutating func warmUp(
        _ event: SendEvent, _ match: TemplateMatch, _ facts: EventFacts, _ context: inout DetectionContext)
}

extension DetectionRule {
    static var windowDoc: String { "The window." }
    static var trigger: RuleTrigger { .youngEvent }
    static var budgetShare: BudgetShare? { nil }
    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {}
    var approximateBytes: Int { 0 }
    var evictions: UInt64 { 0 }
    mutating func enforceBudget(_ context: inout DetectionContext) {}
    static var learnsInWarmup: Bool { false }
    mutating func warmUp(
        _ event: SendEvent, _ match: TemplateMatch, _ facts: EventFacts, _ context: inout DetectionContext
    ) {}
}

/// The checkpoint of a rule that keeps no state of its own.
struct NoRuleState: Codable, Sendable {}

extension DetectionRule where Checkpoint == NoRuleState {
    init(configuration: Configuration, limits: RuleLimits, restoring: NoRuleState) throws(DetectionCheckpointError) {
        self.init(configuration: configuration, limits: limits)
    }

    func checkpoint() -> NoRuleState { NoRuleState() }
}

/// A rule's bounded table, with the evictions already reported to the context's total (the `evicted_keys`
/// figure of every alert).
struct RuleTable<Value: ApproximateHeapSize & Sendable & Codable>: Sendable {
    var entries: BoundedKeyTable<Value>
    /// Evictions of ``entries`` included in ``DetectionContext/ruleEvictions``.
    private var reported: UInt64

    init(_ entries: BoundedKeyTable<Value>) {
        self.entries = entries
        reported = entries.evictions
    }

    /// An empty table of at most `maxEntries` entries and `maxBytes` bytes (the rule's share of the budget, or
    /// part of it).
    init(maxEntries: Int, maxBytes: Int) { self.init(BoundedKeyTable(maxEntries: maxEntries, maxBytes: maxBytes)) }

    /// Adds the evictions since the last report to the context's total; call after any insert or budget check.
    mutating func report(to context: inout DetectionContext) {
        let now = entries.evictions
        context.ruleEvictions &+= now &- reported
        reported = now
    }

    /// Evicts down to the table's budget and reports the evictions to `context`.
    mutating func enforceBudget(reportingTo context: inout DetectionContext) {
        entries.enforceBudget()
        report(to: &context)
    }

    /// The table's bytes, which its budget bounds.
    var approximateBytes: Int { entries.approximateBytes }
    /// Keys the table evicted so far.
    var evictions: UInt64 { entries.evictions }
}

/// A rule that keeps its state in one bounded table: its checkpoint is the table, and the table's bytes,
/// evictions and budget are the rule's.
protocol TableRule: DetectionRule where Checkpoint == BoundedKeyTable<Entry> {
    associatedtype Entry: ApproximateHeapSize & Sendable & Codable
    /// The table's name in messages, e.g. `recipients`.
    static var tableName: String { get }
    var table: RuleTable<Entry> { get set }
    /// Whether a saved entry has the shape this rule's settings give new entries (windows, capacities).
    func fits(_ entry: Entry) -> Bool
}

extension TableRule {
    init(configuration: Configuration, limits: RuleLimits, restoring saved: BoundedKeyTable<Entry>)
        throws(DetectionCheckpointError)
    {
        self.init(configuration: configuration, limits: limits)
        let fitted = try saved.fitting(like: table.entries, Self.tableName) { fits($0) }
        table = RuleTable(fitted)
    }

    func checkpoint() -> BoundedKeyTable<Entry> { table.entries }
    var approximateBytes: Int { table.approximateBytes }
    var evictions: UInt64 { table.evictions }
    mutating func enforceBudget(_ context: inout DetectionContext) { table.enforceBudget(reportingTo: &context) }
}

/// A table entry holding a distinct count of young accounts over its rule's window.
protocol YoungCountEntry {
    /// The young accounts counted for the entry's key.
    var young: SlidingDistinct { get }
}

/// A ``TableRule`` whose entries each count the distinct young accounts of their key over the rule's window
/// (`recipient_fanin`, `shared_artefact`, `slot_content`). The table (the rule's whole share of the budget) and
/// the counts' window and exact capacity are made here, once for the three, and a saved entry fits when its count
/// has that window and capacity.
protocol YoungCountTableRule: TableRule where Entry: YoungCountEntry {
    /// The most entries of the rule's table.
    static var maxEntries: Int { get }
    /// The exact capacity of an entry's count. Default ``RuleLimits/perKeyCapacity``.
    static var youngCapacity: KeyPath<RuleLimits, Int> { get }
    /// The window and exact capacity of every entry's count, made from the settings once.
    var young: SlidingDistinct.Configuration { get }
    /// The rule of these parts (the memberwise initializer).
    init(configuration: Configuration, table: RuleTable<Entry>, young: SlidingDistinct.Configuration)
}

extension YoungCountTableRule {
    static var youngCapacity: KeyPath<RuleLimits, Int> { \.perKeyCapacity }

    init(configuration: Configuration, limits: RuleLimits) {
        let capacity = limits[keyPath: Self.youngCapacity]
        self.init(
            configuration: configuration, table: RuleTable(maxEntries: Self.maxEntries, maxBytes: limits.maxBytes),
            young: .init(windowSeconds: configuration.windowSeconds, exactCapacity: capacity))
    }

    func fits(_ entry: Entry) -> Bool { entry.young.configuration == young }
}

/// A rule that keeps its state in two bounded tables (`template_swarm`: templates and pairs;
/// `concentrated_strangers`: accounts and groups), which share the rule's part of the memory budget: the tables'
/// bytes, evictions and budget step are the rule's, written once here.
///
/// The rule splits its bytes between the two tables when it makes them (the split is the rule's own choice) and
/// hands them over through ``withTables(_:)`` and ``updateTables(_:)``.
protocol TwoTableRule: DetectionRule {
    associatedtype FirstEntry: ApproximateHeapSize & Sendable & Codable
    associatedtype SecondEntry: ApproximateHeapSize & Sendable & Codable
    /// Hands the rule's two tables to `body`, to read.
    func withTables<Result>(_ body: (RuleTable<FirstEntry>, RuleTable<SecondEntry>) -> Result) -> Result
    /// Hands the rule's two tables to `body`, to change.
    mutating func updateTables(_ body: (inout RuleTable<FirstEntry>, inout RuleTable<SecondEntry>) -> Void)
}

extension TwoTableRule {
    var approximateBytes: Int { withTables { $0.approximateBytes + $1.approximateBytes } }
    var evictions: UInt64 { withTables { $0.evictions &+ $1.evictions } }

    /// Evicts each table down to its own byte bound, first the first, and reports the evictions to `context`.
    mutating func enforceBudget(_ context: inout DetectionContext) {
        updateTables { first, second in
            first.enforceBudget(reportingTo: &context)
            second.enforceBudget(reportingTo: &context)
        }
    }
}
