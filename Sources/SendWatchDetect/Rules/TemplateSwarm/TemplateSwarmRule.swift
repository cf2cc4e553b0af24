import SendWatchCore
import SendWatchTemplates
import SendWatchWindows

/// `template_swarm`: many distinct young accounts use the same template within a window, well above that
/// template's normal rate of young accounts.
///
/// Only young accounts whose recipients are spread over at least two recipient domains, or sit in one domain
/// that established senders also mail (a webmail provider), count: a new tenant inviting colleagues on its own
/// domain, which no established account writes to, does not. The rule keeps two tables: per template
/// (``State``) its young accounts with spread recipients in the window, its young accounts' messages and its
/// baseline; per (template, young account) pair (``Pair``) the account's events with the template (for its share
/// of the account's sending) and when the baseline last counted the pair. Its evidence lists the template's top
/// suspicious slot values and its severity rises when there are any: both read from the template's shared
/// features (`TemplateState`), like the account's recipients (`YoungAccountState`).
///
/// Memory: its tables take 15 % of the detection memory budget, a third for the templates (at most 50,000)
/// and two thirds for the pairs (at most 1,000,000); at a bound the entry updated least recently is evicted and
/// starts over. Besides, it keeps the sorted account lists of the last ``ListedAccountsCache/maxLists``
/// templates it built a finding for (``ListedAccounts``, about 90 bytes per listed account, at most 105;
/// derived and not saved), so that a template whose alert stays open does not sort its accounts again for each
/// account that joins.
public struct TemplateSwarmRule: ConfiguredRule, Sendable {
    /// The settings of `rules.template_swarm`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = true
        /// The window. Default 1 hour.
        public var windowSeconds: Int64 = 3600
        /// Distinct young accounts in the window that fire at least. Default 10.
        public var minYoungAccounts = 10
        /// And at least this many times the template's baseline (EWMA of young accounts per window). Default 3.
        public var baselineFactor = 3.0
        /// And at least the baseline plus this many standard deviations. Default 4.
        public var baselineSigmas = 4.0
        /// Half-life of the baseline, in windows. Default 24.
        public var baselineHalfLifeWindows = 24.0
        /// An account counts for a template only when at least this share of its events use the template: a
        /// swarm account sends little else, a person who once wrote a similar subject does not count. Default ⅓.
        public var minTemplateShare = 1.0 / 3.0
        public init() {}
    }

    /// One template's young accounts with spread recipients and its baseline.
    struct State: ApproximateHeapSize, Sendable, Codable {
        /// Young accounts with spread recipients using the template, in the window.
        var spreadYoung: SlidingDistinct
        /// Young-account messages in the window.
        var youngMessages: SlidingCount
        /// Young spread accounts newly seen on this template, per window.
        var baseline: EWMABaseline
        /// The first event of a young account that counted for the template.
        var firstYoungEvent: EventTime?

        var approximateHeapBytes: Int { spreadYoung.approximateHeapBytes + youngMessages.approximateHeapBytes }
    }

    /// A young account's use of one template: its events with the template, and when the baseline last counted
    /// the pair (so that the baseline counts each account once per window).
    struct Pair: ApproximateHeapSize, Sendable, Codable {
        var events: UInt32 = 0
        var lastCounted: EventTime?
        var approximateHeapBytes: Int { 0 }
    }

    /// The rule's saved tables.
    struct Checkpoint: Codable, Sendable {
        var templates: BoundedKeyTable<State>
        var pairs: BoundedKeyTable<Pair>
    }

    /// The rule's name.
    public static let name = RuleName("template_swarm")
    let configuration: Configuration
    /// The window and exact capacity of ``State/spreadYoung``.
    let spreadYoung: SlidingDistinct.Configuration
    var templates: RuleTable<State>
    var pairs: RuleTable<Pair>
    /// The sorted account lists of the templates whose findings were built last (derived, not saved).
    var listedAccounts = ListedAccountsCache()
}

extension TemplateSwarmRule: TwoTableRule {
    static let summary = "many young accounts with spread recipients use one template"
    static let windowDoc = "The window, and the interval of the template's baseline."
    static let keys: [ConfigKey<Configuration>] = [
        .minYoungAccounts(doc: "Distinct young accounts on the template in the window that fire at least."),
        .number(
            "baseline_factor", \.baselineFactor, in: 0...1000,
            doc: "And at least this many times the template's baseline (young accounts per window)."),
        .number(
            "baseline_sigmas", \.baselineSigmas, in: 0...1000,
            doc: "And at least the baseline plus this many standard deviations."),
        .number(
            "baseline_half_life_windows", \.baselineHalfLifeWindows, in: 0.1...100_000,
            doc: "Half-life of the baseline, in windows."),
        .number(
            "min_template_share", \.minTemplateShare, in: 0...1, rendered: { ($0 * 1000).rounded() / 1000 },
            doc: "An account counts for a template only when this share of its events use it."),
    ]
    static var trigger: RuleTrigger { .templateUse }
    static var budgetShare: BudgetShare? { BudgetShare(3, of: 20) }
    static var learnsInWarmup: Bool { true }

    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        if configuration.enabled { features.learnsTemplates = true }
    }

    init(configuration: Configuration, limits: RuleLimits) {
        self.configuration = configuration
        spreadYoung = .init(windowSeconds: configuration.windowSeconds, exactCapacity: limits.listedCapacity)
        let pairBytes = limits.maxBytes / 3 * 2
        templates = RuleTable(maxEntries: 50_000, maxBytes: limits.maxBytes - pairBytes)
        pairs = RuleTable(maxEntries: 1_000_000, maxBytes: pairBytes)
    }

    init(configuration: Configuration, limits: RuleLimits, restoring saved: Checkpoint)
        throws(DetectionCheckpointError)
    {
        self.init(configuration: configuration, limits: limits)
        let window = configuration.windowSeconds
        let distinct = spreadYoung
        let baseline = baselineConfiguration
        let fitted = try saved.templates.fitting(like: templates.entries, "swarm templates") {
            $0.spreadYoung.configuration == distinct && $0.youngMessages.covers(windowSeconds: window)
                && $0.baseline.configuration == baseline
        }
        templates = RuleTable(fitted)
        pairs = RuleTable(try saved.pairs.fitting(like: pairs.entries, "pairs") { _ in true })
    }

    func checkpoint() -> Checkpoint { Checkpoint(templates: templates.entries, pairs: pairs.entries) }

    func withTables<Result>(_ body: (RuleTable<State>, RuleTable<Pair>) -> Result) -> Result { body(templates, pairs) }

    mutating func updateTables(_ body: (inout RuleTable<State>, inout RuleTable<Pair>) -> Void) {
        body(&templates, &pairs)
    }

    /// The baseline's interval (the window) and half-life.
    private var baselineConfiguration: EWMABaseline.Configuration {
        .init(
            intervalMicroseconds: configuration.windowSeconds * 1_000_000,
            halfLifeIntervals: configuration.baselineHalfLifeWindows)
    }

    /// The template's state, created when new.
    private mutating func templateSlot(key: UInt64, name: @autoclosure () -> String, at now: EventTime)
        -> BoundedKeyTable<State>.Slot
    {
        let window = configuration.windowSeconds
        let young = spreadYoung
        let baseline = baselineConfiguration
        return templates.entries.slot(for: key, at: now, name: name()) {
            State(
                spreadYoung: SlidingDistinct(configuration: young), youngMessages: SlidingCount(windowSeconds: window),
                baseline: EWMABaseline(configuration: baseline))
        }
    }

    /// The key of a (template, account) pair.
    private static func pairKey(template: UInt64, account: UInt64) -> UInt64 {
        var pairHash = StableHash()
        pairHash.value = template
        pairHash.combine(Int64(bitPattern: account))
        return pairHash.value
    }

    /// Seeds a template's baseline from the last quarter of the warm-up.
    ///
    /// A replay that starts cold has no history: right after the warm-up, accounts that are old but send
    /// rarely keep appearing for the first time and count as young, at a rate that is highest just then. The
    /// rate at which accounts newly appeared on each template in the last quarter of the warm-up, scaled to a
    /// window, is a fair (slightly high) estimate of that trickle, so it is counted into the template's baseline
    /// as if those accounts had been young.
    ///
    /// Every old account seeds, whether its age comes from the warm-up or from a creation time in the data
    /// (JSON `account_created`, the `--accounts` registry): the seed measures how many accounts the template
    /// carries in a window, which does not depend on how ages are known. Seeding only warm-up accounts left a
    /// template's baseline at zero whenever the data carried creation times, so the swarm threshold fell to
    /// `min_young_accounts` and better data made a launch day look like a swarm.
    mutating func warmUp(
        _ event: SendEvent, _ match: TemplateMatch, _ facts: EventFacts, _ context: inout DetectionContext
    ) {
        let now = event.time
        let warmup = context.ages.configuration.warmupSeconds * 1_000_000
        let quarter = warmup / 4
        let scale = UInt32(clamping: max(1, (configuration.windowSeconds * 1_000_000 + quarter / 2) / quarter))
        let key = match.id.rawValue
        let pairKey = Self.pairKey(template: key, account: facts.accountKey)
        guard pairs.entries.find(pairKey) == nil else { return }
        _ = pairs.entries.insert(key: pairKey, name: "", value: Pair(events: 0, lastCounted: now), at: now)
        pairs.report(to: &context)
        let slot = templateSlot(key: key, name: match.id.description, at: now)
        templates.report(to: &context)
        templates.entries[slot].baseline.add(scale, at: now)
    }

    /// Counts a young account's event with the template: the account's share of the template, whether it counts
    /// for the template's spread young accounts and baseline; returns the template's slot.
    private mutating func record(
        _ use: TemplateUse, _ facts: EventFacts, _ context: inout DetectionContext, at now: EventTime
    )
        -> BoundedKeyTable<State>.Slot
    {
        let slot = templateSlot(key: use.key, name: use.template.id, at: now)
        templates.report(to: &context)
        // The account's use of this template: how much of its sending it is, and the baseline's count.
        let pairSlot = pairs.entries.slot(
            for: Self.pairKey(template: use.key, account: facts.accountKey), at: now, name: ""
        ) {
            Pair()
        }
        pairs.report(to: &context)
        pairs.entries[pairSlot].events &+= 1
        let accountEvents = facts.young.map { Int(context.tables.young[$0].recipients) } ?? 0
        let share = Double(pairs.entries[pairSlot].events) / Double(max(1, accountEvents))
        let counts = use.spread && share >= configuration.minTemplateShare
        var countInBaseline = false
        if counts {
            let interval = configuration.windowSeconds * 1_000_000
            if pairs.entries[pairSlot].lastCounted.map({ now.microseconds - $0.microseconds >= interval }) ?? true {
                pairs.entries[pairSlot].lastCounted = now
                // The baseline does not learn from a swarm in progress: while the template's swarm alert is
                // open, its accounts are not counted, or a campaign lasting longer than a window would raise
                // its own bar and stop being reported after the first window.
                countInBaseline = !context.lifecycle.isOpen(kind: Self.name, key: use.template.id)
            }
        }
        Self.count(facts.accountKey, counts: counts, inBaseline: countInBaseline, in: &templates.entries[slot], at: now)
        return slot
    }

    /// Counts a young account's event in its template's `state`: a young message, and, when it `counts`, a spread
    /// young account (and one for the baseline when `inBaseline`). One write of the table's entry, so the table
    /// accounts its bytes once instead of once per field.
    private static func count(
        _ account: UInt64, counts: Bool, inBaseline: Bool, in state: inout State, at now: EventTime
    ) {
        state.youngMessages.add(1, at: now)
        guard counts else { return }
        state.spreadYoung.insert(account, at: now)
        if state.firstYoungEvent == nil { state.firstYoungEvent = now }
        if inBaseline { state.baseline.add(1, at: now) }
    }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        // The cut-subjects group (``TemplateMiner/cutGroupID``) holds young accounts' subjects that fit no known
        // template, of any template: no swarm of one template; their slots still reach the slot rules.
        guard let use = facts.template, use.key != TemplateMiner.cutGroupID.rawValue else { return }
        let now = event.time
        let slot = record(use, facts, &context, at: now)
        guard use.spread else { return }
        let own = templates.entries[slot]
        let template = use.template
        let rule = configuration
        let distinct = own.spreadYoung.value(at: now)
        let count = Int(distinct.value)
        guard count >= rule.minYoungAccounts else { return }
        let base = own.baseline.snapshot(at: now)
        // The baseline counts completed windows only, so the current surge does not raise its own bar.
        let mean = base.completedIntervals > 0 ? base.mean : 0
        let sd = base.completedIntervals > 0 ? base.standardDeviation : 0
        let threshold = max(Double(rule.minYoungAccounts), mean * rule.baselineFactor, mean + rule.baselineSigmas * sd)
        guard Double(count) >= threshold else { return }
        // Read only past the threshold: a copy of the template's features for every young event cost retains.
        let state = context.tables.templates[use.slot]
        let ratio = Double(count) / threshold
        let severity: Severity = ratio >= 5 || !state.topSlots.isEmpty ? .critical : ratio >= 2 ? .high : .medium
        guard
            context.wants(
                Self.name, key: template.id, severity: severity, accountsTotal: count,
                volume: Int(own.youngMessages.value(at: now)), at: now)
        else { return }
        let listed = listedAccounts.update(
            use.key, to: own.spreadYoung.sampleItems(limit: context.maxAlertAccounts, at: now),
            young: context.tables.young, ages: context.ages, touched: context.touchedYoung)
        var evidence = DetectionContext.youngAccountsEvidence(
            distinct, windowSeconds: rule.windowSeconds, threshold: .double(threshold))
        evidence += [
            ("min_young_accounts", .int(rule.minYoungAccounts)),
            ("baseline_mean", .double(mean)), ("baseline_stddev", .double(sd)),
            ("baseline_windows", .int(Int(base.completedIntervals))),
            ("young_messages", .int(Int(own.youngMessages.value(at: now)))),
        ]
        evidence.append(contentsOf: listed.ageEvidence(at: now))
        let slots = context.slotEvidence(state, template: template, at: now)
        evidence.append(("top_suspicious_slot_values", slots.value))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        evidence.append(context.stateEvidence(approximate: !distinct.isExact || slots.approximate))
        let finding = Finding(
            kind: Self.name, key: template.id, severity: severity, score: ratio,
            firstEventTime: own.firstYoungEvent ?? now, accounts: [],
            accountsTotal: max(count, listed.members.count), volume: Int(own.youngMessages.value(at: now)),
            template: template, evidence: evidence,
            reasons: [
                "\(count) young accounts with recipients in several domains used the template \"\(template.text)\" in "
                    + "\(DurationText.format(rule.windowSeconds)); its normal rate is \(reasonNumber(mean)) per window "
                    + "(threshold \(reasonNumber(threshold)))."
            ])
        context.take(finding, listing: listed, at: now, into: &alerts)
    }
}

extension TemplateSwarmRule.Configuration: YoungAccountsThreshold {}
