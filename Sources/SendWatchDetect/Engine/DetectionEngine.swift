public import SendWatchCore
public import SendWatchTemplates
import SendWatchWindows

/// Counters of the detection stage, for the run summary and metrics.
public struct DetectionCounters: Sendable, Equatable, Encodable {
    /// Events processed.
    public var events = 0
    /// Events from young accounts.
    public var youngEvents = 0
    /// Events older than the allowed lateness behind the newest event, dropped.
    public var lateEvents = 0
    /// Events set aside because their time was further ahead of the newest event than
    /// ``DetectionConfiguration/maxTimeJumpSeconds`` and no sustained run of lines confirmed the step (see
    /// ``DetectionEngine``, "Time").
    public var timeOutliers = 0
    /// Alert records emitted, per action.
    public var creates = 0
    public var updates = 0
    public var closes = 0
    /// Entries evicted from the bounded tables (young accounts, templates, pairs, recipients, rates).
    public var evictions: UInt64 = 0
    /// Young accounts' events whose subject the log cut (``SendEvent/subjectCut``), mined as a prefix
    /// (``TemplateMiner/mine(cut:)``); of them, those that fitted no known template and joined the cut-subjects
    /// group. Not saved in a checkpoint (a restarted run counts from 0).
    public var cutSubjects = 0
    public var cutSubjectsUngrouped = 0
    public init() {}
}

/// The detection stage: takes send events in log order, keeps bounded event-time windows per young account
/// and template, runs the registered rules (`RuleRegistry`), and emits alerts through ``AlertLifecycle``.
///
/// The engine computes what several rules read once per event (`DetectionContext`): the account's age; for
/// a young account (``AccountAges``) its recipient counts over the recent windows and the domains of its
/// recipients; the event's template and the template's features every template rule reads (its suspicious slot
/// values and the top ones, young accounts per slot value).
/// Then it hands the event to the enabled rules of each trigger (`RuleTrigger`); each rule keeps its own tables and
/// builds its own findings. Only young accounts' events reach the rules, except those of
/// the `everyEvent` trigger (the naive `account_rate`). Every rule works on exactly the keys the event
/// touched, so the cost per event does not grow with the number of keys.
///
/// Memory: ``DetectionConfiguration/memoryBudgetBytes`` is shared out by the tables' declared shares: young
/// accounts 30 %, templates 10 %, slot values 5 % (`SharedTables`), templates and pairs 15 % (`template_swarm`),
/// templates 5 % (`slot_content`), recipients 30 % (`recipient_fanin`), artefacts 5 % (`shared_artefact`),
/// account rates 5 % (`account_rate`, off by default), stranger-mailing accounts 5 % (`concentrated_strangers`); when the enabled rules' shares add up to more than
/// the whole, every share is scaled down in proportion. Each table also has an entry bound; at a bound
/// the entry updated least recently is evicted and counted in ``DetectionCounters/evictions``. An evicted key starts
/// over, so the figures in later alerts may be smaller than the truth, never larger. Distinct counts are exact
/// up to ``DetectionConfiguration/maxAlertAccounts`` accounts per key and estimated beyond (HyperLogLog, about
/// 3 % relative error); evidence marks estimates with `"exact": false`. Every alert's evidence ends with
/// `"state": {"evicted_keys": N, "approximate": B}`: the table evictions so far (N > 0 means keys started
/// over, so figures may be undercounts) and whether any figure of the alert is an estimate.
///
/// Time: event time is the newest accepted event's time (the watermark). An event more than
/// ``DetectionConfiguration/allowedLatenessSeconds`` behind it is dropped and counted as late; an event more
/// than ``DetectionConfiguration/maxTimeJumpSeconds`` ahead of it is set aside and counted as a time outlier
/// unless it completes a run of 16 distinct lines in a row that agree on the new time (`confirmsTimeJump`).
/// Bound: one candidate run (its newest time, its length and its last line's hash).
///
/// Determinism: every decision depends only on the events and the configuration; nothing reads the wall
/// clock, and every list in the output is sorted.
public struct DetectionEngine: Sendable {
    public let configuration: DetectionConfiguration
    var context: DetectionContext
    /// The enabled rules, in registry order.
    var rules: [any DetectionRule]
    /// Indices into ``rules`` per trigger, in registry order.
    let everyEventRules: [Int]
    let accountRules: [Int]
    let templateRules: [Int]
    let youngRules: [Int]
    /// Indices into ``rules`` of the rules that learn in the warm-up (``DetectionRule/learnsInWarmup``).
    let warmupRules: [Int]
    /// The memory budget the rules' shares are taken from (scaled down when the shares exceed the whole).
    let ruleBudget: Int
    /// Buckets per sliding count. 50 divides every whole number of seconds in microseconds (10⁶ = 2⁶·5⁶), so
    /// any window the configuration accepts is a whole number of buckets.
    static let windowBuckets = 50

    /// Deliveries from established accounts that make a recipient domain public.
    static let publicDomainMinEvents: UInt64 = 20
    /// The newest event time seen (the watermark).
    public internal(set) var watermark: EventTime?
    var lastAdvance: Int64 = .min
    /// The newest time of a run of events far ahead of the watermark, and how many lines of that run were seen
    /// (see ``confirmsTimeJump(_:)``).
    var jumpCandidate: EventTime?
    var jumpVotes = 0
    /// The hash of the run's last line (its time and message id).
    var jumpLine: UInt64 = 0
    /// Lines in a row that must agree before event time steps further ahead than
    /// ``DetectionConfiguration/maxTimeJumpSeconds``.
    static let timeJumpConfirmations = 16

    public init(configuration: DetectionConfiguration = .init()) {
        self.configuration = configuration
        var features = FeatureSettings()
        for rule in RuleRegistry.rules { Self.contribute(rule, configuration, to: &features) }
        var shares = SharedTables.shares
        for rule in RuleRegistry.rules where Self.isEnabled(rule, configuration) {
            if let share = rule.budgetShare { shares.append(share) }
        }
        let budget = Self.scaledBudget(max(1 << 20, configuration.memoryBudgetBytes), shares: shares)
        context = DetectionContext(
            maxAlertAccounts: configuration.maxAlertAccounts, features: features,
            ages: AccountAges(configuration: configuration.ages),
            miner: TemplateMiner(configuration: configuration.miner),
            lifecycle: AlertLifecycle(configuration: configuration.lifecycle), tables: SharedTables(budget: budget))
        if features.remembersEstablishedRecipients {
            context.establishedRecipients = SeenFilter(capacity: max(1, features.rememberedRecipients))
        }
        ruleBudget = budget
        let rules = RuleRegistry.rules.compactMap { Self.make($0, configuration, budget: budget) }
        func indices(_ trigger: RuleTrigger) -> [Int] {
            rules.indices.filter { type(of: rules[$0]).trigger == trigger }
        }
        self.rules = rules
        everyEventRules = indices(.everyEvent)
        accountRules = indices(.youngAccount)
        templateRules = indices(.templateUse)
        youngRules = indices(.youngEvent)
        warmupRules = rules.indices.filter { type(of: rules[$0]).learnsInWarmup }
    }

    private static func contribute<R: DetectionRule>(
        _ rule: R.Type, _ configuration: DetectionConfiguration, to features: inout FeatureSettings
    ) {
        R.contribute(configuration.rules[R.Configuration.self], to: &features)
    }

    private static func isEnabled<R: DetectionRule>(_ rule: R.Type, _ configuration: DetectionConfiguration) -> Bool {
        configuration.rules[R.Configuration.self].enabled
    }

    /// The limits a rule is built with.
    static func limits<R: DetectionRule>(_ rule: R.Type, _ configuration: DetectionConfiguration, budget: Int)
        -> RuleLimits
    {
        RuleLimits(maxBytes: R.budgetShare?.bytes(of: budget) ?? 0, maxAlertAccounts: configuration.maxAlertAccounts)
    }

    private static func make<R: DetectionRule>(
        _ rule: R.Type, _ configuration: DetectionConfiguration, budget: Int
    ) -> (any DetectionRule)? {
        let settings = configuration.rules[R.Configuration.self]
        guard settings.enabled else { return nil }
        return R(configuration: settings, limits: limits(R.self, configuration, budget: budget))
    }

    /// `budget`, scaled down when `shares` add up to more than the whole so that the tables together stay
    /// within it; unchanged otherwise (the default rules' shares add up to exactly the whole).
    static func scaledBudget(_ budget: Int, shares: [BudgetShare]) -> Int {
        let common = shares.reduce(1) { lcm($0, $1.denominator) }
        let total = shares.reduce(0) { $0 + $1.numerator * (common / $1.denominator) }
        return total > common ? budget / total * common : budget
    }

    private static func lcm(_ a: Int, _ b: Int) -> Int {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return a / x * b
    }

    /// Account ages: the first-seen table and the registry.
    public var ages: AccountAges { context.ages }
    /// The subject template miner.
    public var miner: TemplateMiner { context.miner }
    /// The counters of the stage.
    public var counters: DetectionCounters { context.counters }

    /// Adds a creation time from the account registry.
    public mutating func register(account: String, created: EventTime) {
        context.ages.register(account: account, created: created)
    }

    /// Approximate bytes held by the detection tables.
    public var approximateBytes: Int {
        rules.reduce(context.tables.approximateBytes) { $0 + $1.approximateBytes }
    }

    /// Processes one event; appends the alert records it causes to `alerts`.
    ///
    /// - Complexity: O(1) amortised in the number of keys; O(exact distinct capacity) when an alert is built.
    public mutating func process(_ event: SendEvent, into alerts: inout [Alert]) {
        var event = event
        process(inPlace: &event, into: &alerts)
    }

    /// Processes `events` in order: the same as ``process(_:into:)`` for each, without copying the events.
    public mutating func process(_ events: inout EventBatch, into alerts: inout [Alert]) {
        process(&events, in: events.indices, into: &alerts)
    }

    /// Processes `events[range]` in order, as the batch's `process(_:into:)` does for all of it, without copying
    /// the events: for a caller that takes a large batch in slices (a worker renewing its lease between them).
    public mutating func process(_ events: inout EventBatch, in range: Range<Int>, into alerts: inout [Alert]) {
        for i in range { process(inPlace: &events[i], into: &alerts) }
    }

    /// Processes `events` in order like ``process(_:into:)``, except that an event stamped later than `latest`
    /// is set aside without touching any state; returns how many were set aside.
    ///
    /// `tail` bounds event time by the wall clock plus `--max-future` this way: the bound is checked in the pass
    /// that processes the batch (one comparison per event), not in a pass of its own before it.
    ///
    /// - Complexity: as ``process(_:into:)`` for each event kept; O(1) for each one set aside.
    public mutating func process(
        _ events: inout EventBatch, notAfter latest: EventTime, into alerts: inout [Alert]
    ) -> Int {
        var setAside = 0
        for i in events.indices {
            guard events[i].time <= latest else {
                setAside += 1
                continue
            }
            process(inPlace: &events[i], into: &alerts)
        }
        return setAside
    }

    /// The body of ``process(_:into:)``. `inout` only so that the caller hands over the event in place: a
    /// borrowed array element would be copied (a retain and a release per string field) because the compiler
    /// cannot prove that the calls made here leave the array alone. The event is not changed.
    private mutating func process(inPlace event: inout SendEvent, into alerts: inout [Alert]) {
        let now = event.time
        if let w = watermark {
            if now.microseconds < w.microseconds - configuration.allowedLatenessSeconds * 1_000_000 {
                context.counters.lateEvents += 1
                return
            }
            if now.microseconds > w.microseconds + configuration.maxTimeJumpSeconds * 1_000_000 {
                guard confirmsTimeJump(event) else {
                    context.counters.timeOutliers += 1
                    return
                }
            } else if jumpCandidate != nil {
                jumpCandidate = nil
                jumpVotes = 0
            }
            if now > w { watermark = now }
        } else {
            watermark = now
        }
        context.counters.events += 1
        advanceIfDue(into: &alerts)

        // The account's hash is computed once per event and shared by every table keyed by account.
        let accountKey = StableHash.of(event.account)
        let age = context.ages.observe(accountHash: accountKey, created: event.accountCreated, at: now)
        var facts = EventFacts(accountKey: accountKey, age: age)
        for i in everyEventRules { rules[i].observe(event, facts, &context, into: &alerts) }
        guard age.isYoung else {
            // One pass over the address for both hashes: the domain's, as always, and the address's, remembered
            // when the established recipients are kept. (Asking `establishedRecipients != nil` first copied the
            // optional filter and destroyed the copy, 114 instructions an event.)
            let keys = Self.recipientHashes(event.recipient)
            context.establishedDomains.add(keys.domain, at: now)
            context.establishedRecipients?.insert(keys.address)
            // Old accounts only feed the rules that learn in the warm-up (the swarm's baselines): every old
            // account, however its age is known (first seen in the warm-up, or a creation time in the data), so
            // that better data gives the same baseline.
            if !warmupRules.isEmpty, inWarmupTail(now) {
                if let match = mine(event, young: false) {
                    for i in warmupRules { rules[i].warmUp(event, match, facts, &context) }
                }
            } else if learnsFrom(event) {
                // Established traffic teaches the miner the platform's templates, so that a young account's
                // text lands in a slot instead of becoming a template of its own. The match is not needed, so
                // it is not built (its slot values' strings).
                learn(event)
            }
            return
        }
        context.counters.youngEvents += 1
        let match = mine(event, young: true)

        let (domainKey, recipientKey) = Self.recipientHashes(event.recipient)
        let features = context.features
        let slot = context.tables.young.slot(for: accountKey, at: now, name: event.account) {
            YoungAccountState(
                burst: YoungAccountBurstRule.Windows(features), firstEvent: now, ageSeconds: age.ageSeconds,
                ageBasis: age.basis)
        }
        // One in-place update: the table hands the value out uniquely, so its arrays are not copied.
        context.tables.young[slot].record(
            at: now, domain: domainKey, messageID: event.messageID ?? event.queueID, age: age)
        context.tables.young[slot].samples.addSubmitter(
            login: event.login, clientIP: event.clientIP, claimedAccount: event.claimedAccount)
        context.tables.young[slot].samples.addDelivery(recipient: event.recipient, queueID: event.queueID)
        context.touchedYoung.append(accountKey)
        facts.domainKey = domainKey
        facts.recipientKey = recipientKey
        facts.young = slot
        for i in accountRules { rules[i].observe(event, facts, &context, into: &alerts) }

        if let match {
            let state = context.tables.young[slot]
            // Spread: recipients in several domains, or in one domain that established senders mail too (victims
            // at a webmail provider). A young account whose recipients all sit in one domain no established
            // account writes to is a new company writing to itself: onboarding, not a campaign.
            let spread =
                state.isSpread
                || (state.domains.distinct == 1
                    && context.establishedDomains.estimate(domainKey, at: now) >= Self.publicDomainMinEvents)
            facts.template = updateTemplate(event, accountKey: accountKey, spread: spread, match: match)
            for i in templateRules { rules[i].observe(event, facts, &context, into: &alerts) }
        }
        for i in youngRules { rules[i].observe(event, facts, &context, into: &alerts) }
        enforceBudgets()
    }

    /// Whether `event`, further ahead of the watermark than ``DetectionConfiguration/maxTimeJumpSeconds``,
    /// completes a sustained run that confirms a step of event time.
    ///
    /// One line with a timestamp years ahead (a host's broken clock, a forged JSON `ts`) must not move event
    /// time there: every later event of every host would be late. Such events are set aside (counted as time
    /// outliers) until ``timeJumpConfirmations`` distinct lines in a row agree on the new time (each within the
    /// allowed lateness behind the newest of the run and within the jump bound ahead of it), as after a real
    /// gap in the logs or a clock step of the only host writing the log. A line is a (time, message id or
    /// queue id) pair, so the recipients of one message, or one JSON line's recipients, count once. Any event at
    /// the current event time breaks the run (see `process`): in a log several hosts write, one host's clock
    /// moves event time for the others only if none of them writes a line for 16 lines.
    ///
    /// - Complexity: O(1); hashes the message id, only for events ahead of the bound.
    private mutating func confirmsTimeJump(_ event: SendEvent) -> Bool {
        var line = StableHash()
        line.combine(event.time.microseconds)
        line.combine(event.messageID ?? event.queueID ?? "")
        let lateness = configuration.allowedLatenessSeconds * 1_000_000
        let jump = configuration.maxTimeJumpSeconds * 1_000_000
        if let c = jumpCandidate, event.time.microseconds >= c.microseconds - lateness,
            event.time.microseconds <= c.microseconds + jump
        {
            if line.value != jumpLine {
                jumpVotes += 1
                jumpLine = line.value
            }
            if event.time > c { jumpCandidate = event.time }
        } else {
            jumpCandidate = event.time
            jumpLine = line.value
            jumpVotes = 1
        }
        guard jumpVotes >= Self.timeJumpConfirmations else { return false }
        jumpCandidate = nil
        jumpVotes = 0
        return true
    }

    /// Evicts from the tables that are over their byte budget. Called once per young event, after every slot
    /// handed out for the event has been used: eviction can free any slot.
    private mutating func enforceBudgets() {
        context.tables.enforceBudget()
        for i in rules.indices { rules[i].enforceBudget(&context) }
    }

    /// The text the miner takes for the event and its explicit template id, or `nil` when it has no template:
    /// no subject or template id, or a reply or forward (conversation between people, never a platform's
    /// notification template). ``mine(_:young:)`` and ``learn(_:)`` choose through this one function.
    private static func minedText(_ event: SendEvent) -> (text: String, explicitTemplate: String?)? {
        if let template = event.template { return (event.subject ?? template, template) }
        guard let subject = event.subject, !isConversation(subject) else { return nil }
        return (subject, nil)
    }

    /// The event's template, or `nil` when it has none (``minedText(_:)``).
    ///
    /// A subject the log cut (``SendEvent/subjectCut``, without an explicit template) is matched as a prefix of
    /// the known templates and teaches the miner nothing (``TemplateMiner/mine(cut:)``).
    /// Only a young account's cut subject takes that path: established accounts' cut subjects are mined (and
    /// learned) as any other, so that a platform whose subjects are all cut (long non-ASCII ones, each character
    /// 4 to 12 bytes once encoded) still learns its templates.
    private mutating func mine(_ event: SendEvent, young: Bool) -> TemplateMatch? {
        guard let (text, explicitTemplate) = Self.minedText(event) else { return nil }
        if young && event.subjectCut && explicitTemplate == nil {
            let match = context.miner.mine(cut: text)
            context.counters.cutSubjects += 1
            if match.id == TemplateMiner.cutGroupID { context.counters.cutSubjectsUngrouped += 1 }
            return match
        }
        return context.miner.mine(text, explicitTemplate: explicitTemplate)
    }

    /// ``mine(_:)`` for an event whose match is not needed: the miner learns the same texts (``TemplateMiner/
    /// learn(_:explicitTemplate:)``, the same state afterwards) without building a match.
    private mutating func learn(_ event: SendEvent) {
        guard let (text, explicitTemplate) = Self.minedText(event) else { return }
        context.miner.learn(text, explicitTemplate: explicitTemplate)
    }

    /// A fixed hash of an address's domain (after the last `@`), ASCII letters folded to lower case, without
    /// allocating.
    static func domainHash(_ address: String) -> UInt64 {
        address.withUTF8Bytes { utf8 in
            guard let base = utf8.baseAddress else { return StableHash().value }
            return Self.loweredFNV(
                base, from: Self.domainStart(base, count: utf8.count), to: utf8.count,
                seed: StableHash().value)
        }
    }

    /// ``domainHash(_:)`` and ``addressHash(_:)`` of one address.
    ///
    /// - Complexity: O(address bytes), no allocation.
    ///
    /// The domain is what follows the last `@` (all of it without one), found by a backward scan; each hash is
    /// then an FNV-1a over bytes lowered eight at a time (``loweredFNV(_:from:to:seed:)``): 437 instructions
    /// an address of the independent log (26 bytes, the domain 17) against 487 for one loop that lowered each
    /// byte and started the domain over at each `@` (docs/performance.md); the values are the same
    /// (`DetectionEngineHashTests`). FNV-1a's multiply per byte is most of what is left.
    static func recipientHashes(_ address: String) -> (domain: UInt64, address: UInt64) {
        address.withUTF8Bytes { utf8 in
            guard let base = utf8.baseAddress else { return (StableHash().value, Self.addressSeed) }
            let n = utf8.count
            let domain = Self.loweredFNV(base, from: Self.domainStart(base, count: n), to: n, seed: StableHash().value)
            return (domain, Self.loweredFNV(base, from: 0, to: n, seed: Self.addressSeed))
        }
    }

    /// A fixed hash of a whole address, ASCII letters folded to lower case, in a namespace apart from domains.
    static func addressHash(_ address: String) -> UInt64 {
        address.withUTF8Bytes { utf8 in
            guard let base = utf8.baseAddress else { return Self.addressSeed }
            return Self.loweredFNV(base, from: 0, to: utf8.count, seed: Self.addressSeed)
        }
    }

    /// The FNV-1a offset basis of ``addressHash(_:)`` (the usual one with its halves swapped).
    private static let addressSeed: UInt64 = 0x8422_2325_cbf2_9ce4

    /// The index after the last `@` of the `count` bytes at `base`, or 0 when there is none.
    @inline(__always)
    private static func domainStart(_ base: UnsafePointer<UInt8>, count: Int) -> Int {
        var start = count
        while start > 0 && base[start - 1] != UInt8(ascii: "@") { start -= 1 }
        return start
    }

    /// FNV-1a from `seed` over `base[start..<end]` with ASCII upper-case letters lowered: eight bytes loaded and
    /// lowered at once (``lowerASCII(word:)``), then mixed in one by one; the last bytes one by one.
    ///
    /// - Complexity: O(end - start), no allocation.
    @inline(__always)
    private static func loweredFNV(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, seed: UInt64)
        -> UInt64
    {
        let prime: UInt64 = 0x100_0000_01b3
        var h = seed
        var i = start
        let raw = UnsafeRawPointer(base)
        while i + 8 <= end {
            // Safe: bytes i ..< i + 8 lie inside start ..< end.
            let w = Self.lowerASCII(word: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            h = (h ^ (w & 0xFF)) &* prime
            h = (h ^ (w >> 8 & 0xFF)) &* prime
            h = (h ^ (w >> 16 & 0xFF)) &* prime
            h = (h ^ (w >> 24 & 0xFF)) &* prime
            h = (h ^ (w >> 32 & 0xFF)) &* prime
            h = (h ^ (w >> 40 & 0xFF)) &* prime
            h = (h ^ (w >> 48 & 0xFF)) &* prime
            h = (h ^ (w >> 56)) &* prime
            i += 8
        }
        while i < end {
            let b = base[i]
            h = (h ^ UInt64(b &- 0x41 < 26 ? b | 0x20 : b)) &* prime
            i += 1
        }
        return h
    }

    /// `w` with each ASCII upper-case letter byte lowered (`| 0x20`), every other byte as it is.
    @inline(__always)
    static func lowerASCII(word w: UInt64) -> UInt64 {
        let low7 = w & 0x7F7F_7F7F_7F7F_7F7F
        // Bit 7 of a byte: its low seven bits are at least 0x41 / at least 0x5B (no carry between bytes).
        let atLeastA = low7 &+ 0x3F3F_3F3F_3F3F_3F3F
        let pastZ = low7 &+ 0x2525_2525_2525_2525
        // A letter is at least `A`, not past `Z`, and below 0x80.
        let upper = atLeastA & ~pastZ & ~w & 0x8080_8080_8080_8080
        return w | upper >> 2
    }

    /// Ends a replay: closes the alerts whose cooldown has passed at the watermark, and reports the evidence
    /// that open alerts gathered since their last record in a final `update` (they stay open: the input ended,
    /// the incident may not have).
    public mutating func finish(into alerts: inout [Alert]) {
        guard let w = watermark else { return }
        context.emit(context.lifecycle.advance(to: w), into: &alerts)
        context.emit(context.lifecycle.flushPending(at: w), into: &alerts)
    }

    /// Moves event time forward without an event (live mode's idle timer); closes what is due.
    public mutating func advance(to time: EventTime, into alerts: inout [Alert]) {
        if watermark == nil || time > watermark! { watermark = time }
        context.emit(context.lifecycle.advance(to: time), into: &alerts)
    }

    private mutating func advanceIfDue(into alerts: inout [Alert]) {
        guard let w = watermark else { return }
        // Closing is checked once per minute of event time: cheap, and deterministic.
        let minute = w.microseconds / 60_000_000
        guard minute != lastAdvance else { return }
        lastAdvance = minute
        context.emit(context.lifecycle.advance(to: w), into: &alerts)
        // Held updates only here, with the events: the idle timer of a quiet `tail` only closes alerts, so
        // that `tail` and `replay` of the same lines write the same records.
        context.emit(context.lifecycle.emitHeld(at: w), into: &alerts)
    }

    // MARK: - Template features

    /// Updates the features of the event's template: young accounts per slot value, suspicious slot values and
    /// the template's top suspicious values.
    private mutating func updateTemplate(
        _ event: SendEvent, accountKey: UInt64, spread: Bool, match: TemplateMatch
    ) -> TemplateUse {
        let now = event.time
        let key = match.id.rawValue
        let slot = templateSlot(match, at: now)
        // Young accounts per slot value (the first four slots of the template).
        for value in match.slots.prefix(4) {
            let valueKey = Self.slotValueKey(template: key, value: value)
            let window = context.features.suspiciousWindowSeconds * 1_000_000
            let vs = context.tables.slotValues.slot(for: valueKey, at: now, name: "") {
                YoungSenders(
                    young: SlidingDistinct(configuration: .init(horizonMicroseconds: window, exactCapacity: 64)),
                    first: now)
            }
            context.tables.slotValues[vs].young.insert(accountKey, at: now)
        }
        // Suspicious slot content.
        var suspicious: SlotIndicators = []
        var suspiciousValue: String?
        // Normalised once here for every reader of the values (the shared artefacts read them again).
        let normalizedSlots = TemplateUse.normalize(match.slots)
        for (index, value) in match.slots.enumerated() {
            let normalized = index < normalizedSlots.count ? normalizedSlots[index] : nil
            var found = SlotContent.indicators(of: value, normalized: normalized)
            // A host many legitimate accounts name (the platform's help link, a webmail provider) is no lure:
            // checked only for a value that would be suspicious with it.
            if found.contains(.domain), SlotContent.score(found) >= context.features.minSlotScore {
                let hosts = LureArtefact.extract(from: value, normalized: normalized).artefacts.filter {
                    $0.hasPrefix("domain:")
                }
                if !hosts.isEmpty,
                    hosts.allSatisfy({ context.isCommonArtefact($0, sender: event.sender, at: now) })
                {
                    found.subtract([.domain, .url, .email])
                }
            }
            if SlotContent.score(found) >= context.features.minSlotScore {
                suspicious.formUnion(found)
                suspiciousValue = value
            }
        }
        context.tables.templates[slot].recordYoung(
            text: match.text, messageID: event.messageID ?? event.queueID, suspiciousValue: suspiciousValue,
            indicators: suspicious)
        return TemplateUse(
            slot: slot, key: key,
            template: AlertTemplate(id: match.id.description, text: match.text, logged: event.template),
            spread: spread, suspicious: suspiciousValue != nil, indicators: suspicious, slots: match.slots,
            normalizedSlots: normalizedSlots)
    }

    /// Whether an established account's event is mined to learn templates: one subject in eight, chosen by a
    /// fixed hash of the subject, so the same subjects are chosen in every run. Every template in steady use is
    /// learned, and the miner sees an eighth of the established traffic.
    private func learnsFrom(_ event: SendEvent) -> Bool {
        guard context.features.learnsTemplates else { return false }
        if event.template != nil { return true }
        guard let subject = event.subject else { return false }
        return StableHash.of(subject) & 7 == 0
    }

    /// Whether `now` lies in the last quarter of the warm-up, when the baselines are seeded.
    private func inWarmupTail(_ now: EventTime) -> Bool {
        let warmup = configuration.ages.warmupSeconds * 1_000_000
        guard warmup >= 4, let start = context.ages.streamStart, !context.ages.warmupEnded(at: now) else {
            return false
        }
        return now.microseconds - start.microseconds >= warmup - warmup / 4
    }

    /// The template's shared features, created when new.
    private mutating func templateSlot(_ match: TemplateMatch, at now: EventTime) -> BoundedKeyTable<TemplateState>.Slot
    {
        context.tables.templates.slot(for: match.id.rawValue, at: now, name: match.id.description) {
            TemplateState(text: match.text)
        }
    }

    /// Reply and forward markers in common mail clients' languages (English, German, Scandinavian, Finnish,
    /// Dutch, French, Spanish/Italian/Portuguese, Polish), compared case-insensitively before the first `:`.
    static let conversationPrefixes: Set<String> = [
        "re", "fw", "fwd", "aw", "wg", "sv", "vs", "vl", "antw", "doorst", "tr", "rif", "ri", "enc", "odp", "pd", "r",
    ]

    /// Whether a subject starts with a reply or forward marker (`Re:`, `Fwd:`, `AW:`, `Re[2]:` ...): up to 6
    /// ASCII letters, optionally a `[n]` or `(n)` counter, then `:`. Reads at most 16 bytes, allocates nothing.
    package static func isConversation(_ subject: String) -> Bool {
        subject.withUTF8Bytes { utf8 -> Bool in
            var word: UInt64 = 0
            var letters = 0
            var i = 0
            let n = min(utf8.count, 16)
            while i < n {
                var b = utf8[i]
                guard (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A else { break }
                b |= 0x20
                guard letters < 6 else { return false }
                word = word << 8 | UInt64(b)
                letters += 1
                i += 1
            }
            guard letters > 0, i < n else { return false }
            if utf8[i] == UInt8(ascii: "[") || utf8[i] == UInt8(ascii: "(") {
                let close = utf8[i] == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: ")")
                i += 1
                while i < n && utf8[i] >= 0x30 && utf8[i] <= 0x39 { i += 1 }
                guard i < n, utf8[i] == close else { return false }
                i += 1
            }
            guard i < n, utf8[i] == UInt8(ascii: ":") else { return false }
            return conversationPrefixWords.contains(word)
        }
    }

    /// ``conversationPrefixes`` packed as ASCII bytes into integers, for the byte-level check.
    static let conversationPrefixWords: Set<UInt64> = Set(
        conversationPrefixes.map { p in
            p.utf8.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        })

    /// The key of a slot value within a template: case and surrounding spaces do not matter.
    static func slotValueKey(template: UInt64, value: String) -> UInt64 {
        var h = StableHash()
        h.value ^= template
        value.withUTF8Bytes { utf8 in
            var start = 0
            var end = utf8.count
            while start < end && (utf8[start] == 0x20 || utf8[start] == 0x09) { start += 1 }
            while end > start && (utf8[end - 1] == 0x20 || utf8[end - 1] == 0x09) { end -= 1 }
            var x = h.value
            for i in start..<end {
                var b = utf8[i]
                if b >= 0x41 && b <= 0x5A { b |= 0x20 }
                x = (x ^ UInt64(b)) &* 0x100_0000_01b3
            }
            h.value = x
        }
        return h.value
    }
}

extension BoundedKeyTable {
    /// The slot of `key`, touched at `now`; when the key is absent, a new entry whose name and value are made
    /// only then.
    ///
    /// - Complexity: O(1) expected; an insert may evict (see ``BoundedKeyTable``).
    mutating func slot(
        for key: UInt64, at now: EventTime, name: @autoclosure () -> String, make: () -> Value
    ) -> Slot {
        if let s = find(key) {
            touch(s, at: now)
            return s
        }
        return insert(key: key, name: name(), value: make(), at: now)
    }
}
