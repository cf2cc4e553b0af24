public import SendWatchCore
public import SendWatchTemplates
import SendWatchWindows

/// Counters of the detection stage, for the run summary and metrics.
public struct DetectionCounters: Sendable, Equatable {
    /// Events processed.
    public var events = 0
    /// Events from young accounts.
    public var youngEvents = 0
    /// Events older than the allowed lateness behind the newest event, dropped.
    public var lateEvents = 0
    /// Events dropped because their time jumped further ahead of the newest event than
    /// ``DetectionConfiguration/maxTimeJumpSeconds`` and no other event confirmed the jump.
    public var timeOutliers = 0
    /// Alert records emitted, per action.
    public var creates = 0
    public var updates = 0
    public var closes = 0
    /// Entries evicted from the bounded tables (young accounts, templates, pairs, recipients, rates).
    public var evictions: UInt64 = 0
    public init() {}
}

/// The detection stage: takes send events in log order, keeps bounded event-time windows per young account,
/// template, (template, account) pair and recipient, and emits alerts through ``AlertLifecycle``.
///
/// Only young accounts (``AccountAges``) feed the detectors, except the naive `account_rate` rule. For each
/// event of a young account the engine updates:
/// - the account's recipient counts over the burst windows and the domains of its recipients
///   (`young_account_burst`);
/// - its template's distinct young accounts with spread recipients, the template's baseline of such accounts
///   per window, and its young accounts with suspicious slot values (`template_swarm`, `slot_content`);
/// - the distinct young senders of its recipient and recipient domain (`recipient_fanin`);
/// and evaluates the rules for exactly the keys it touched, so the cost per event does not grow with the
/// number of keys.
///
/// Memory: ``DetectionConfiguration/memoryBudgetBytes`` is shared out as young accounts 30 %, templates 20 %,
/// pairs 10 %, recipients 30 %, account rates 5 %, slot values 5 % (each table also has an entry bound); at a bound the entry
/// updated least recently is evicted and counted in ``DetectionCounters/evictions``. An evicted key starts
/// over, so the figures in later alerts may be smaller than the truth, never larger. Distinct counts are exact
/// up to ``DetectionConfiguration/maxAlertAccounts`` accounts per key and estimated beyond (HyperLogLog, about
/// 3 % relative error); evidence marks estimates with `"exact": false`. Every alert's evidence ends with
/// `"state": {"evicted_keys": N, "approximate": B}`: the table evictions so far (N > 0 means keys started
/// over, so figures may be undercounts) and whether any figure of the alert is an estimate.
///
/// Determinism: every decision depends only on the events and the configuration; nothing reads the wall
/// clock, and every list in the output is sorted.
public struct DetectionEngine: Sendable {
    public let configuration: DetectionConfiguration
    public internal(set) var ages: AccountAges
    public internal(set) var miner: TemplateMiner
    var lifecycle: AlertLifecycle
    var young: BoundedKeyTable<YoungAccountState>
    var templates: BoundedKeyTable<TemplateState>
    var pairs: BoundedKeyTable<PairState>
    var fanIn: BoundedKeyTable<FanInState>
    var rates: BoundedKeyTable<RateState>
    /// Distinct young accounts per (template, slot value), over the slot-content window.
    var slotValues: BoundedKeyTable<FanInState>
    /// Deliveries from established accounts per recipient domain (count-min, two rotating 12 h epochs): a
    /// domain established senders mail often (a webmail provider, a busy company) is public; a new company's
    /// own domain is not.
    var establishedDomains = CountMinSketch(width: 1 << 16, depth: 4, epochMicroseconds: 12 * 3_600_000_000)
    /// Buckets per sliding count. 50 divides every whole number of seconds in microseconds (10⁶ = 2⁶·5⁶), so
    /// any window the configuration accepts is a whole number of buckets.
    static let windowBuckets = 50

    /// Deliveries from established accounts that make a recipient domain public.
    static let publicDomainMinEvents: UInt64 = 20
    public internal(set) var counters = DetectionCounters()
    /// The newest event time seen (the watermark).
    public internal(set) var watermark: EventTime?
    var lastAdvance: Int64 = .min
    /// A time far ahead of the watermark, and how many events in a row agreed with it (see ``process``).
    var jumpCandidate: EventTime?
    var jumpVotes = 0
    /// Events in a row that must agree before event time jumps further ahead than
    /// ``DetectionConfiguration/maxTimeJumpSeconds``.
    static let timeJumpConfirmations = 3

    public init(configuration: DetectionConfiguration = .init()) {
        self.configuration = configuration
        ages = AccountAges(configuration: configuration.ages)
        miner = TemplateMiner(configuration: configuration.miner)
        lifecycle = AlertLifecycle(configuration: configuration.lifecycle)
        let budget = max(1 << 20, configuration.memoryBudgetBytes)
        young = BoundedKeyTable(maxEntries: 200_000, maxBytes: budget / 10 * 3)
        templates = BoundedKeyTable(maxEntries: 50_000, maxBytes: budget / 10 * 2)
        pairs = BoundedKeyTable(maxEntries: 1_000_000, maxBytes: budget / 10)
        fanIn = BoundedKeyTable(maxEntries: 500_000, maxBytes: budget / 10 * 3)
        rates = BoundedKeyTable(maxEntries: 500_000, maxBytes: budget / 20)
        slotValues = BoundedKeyTable(maxEntries: 200_000, maxBytes: budget / 20)
    }

    /// Adds a creation time from the account registry.
    public mutating func register(account: String, created: EventTime) {
        ages.register(account: account, created: created)
    }

    /// Approximate bytes held by the detection tables.
    public var approximateBytes: Int {
        young.approximateBytes + templates.approximateBytes + pairs.approximateBytes + fanIn.approximateBytes
            + rates.approximateBytes + slotValues.approximateBytes
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
        for i in events.indices { process(inPlace: &events[i], into: &alerts) }
    }

    /// The body of ``process(_:into:)``. `inout` only so that the caller hands over the event in place: a
    /// borrowed array element would be copied (a retain and a release per string field) because the compiler
    /// cannot prove that the calls made here leave the array alone. The event is not changed.
    private mutating func process(inPlace event: inout SendEvent, into alerts: inout [Alert]) {
        let now = event.time
        if let w = watermark {
            if now.microseconds < w.microseconds - configuration.allowedLatenessSeconds * 1_000_000 {
                counters.lateEvents += 1
                return
            }
            if now.microseconds > w.microseconds + configuration.maxTimeJumpSeconds * 1_000_000 {
                // One line with a timestamp years ahead (a broken clock, a hostile JSON `ts`) must not move event
                // time there: every later event would be late. A jump is taken only once
                // `timeJumpConfirmations` events in a row agree on it (within the allowed lateness), as after a
                // real gap in the logs; until then the events are counted as time outliers.
                let lateness = configuration.allowedLatenessSeconds * 1_000_000
                if let c = jumpCandidate, abs(now.microseconds - c.microseconds) <= lateness {
                    jumpVotes += 1
                } else {
                    jumpCandidate = now
                    jumpVotes = 1
                }
                guard jumpVotes >= Self.timeJumpConfirmations else {
                    counters.timeOutliers += 1
                    return
                }
                jumpCandidate = nil
                jumpVotes = 0
            } else if jumpCandidate != nil {
                jumpCandidate = nil
                jumpVotes = 0
            }
            if now > w { watermark = now }
        } else {
            watermark = now
        }
        counters.events += 1
        advanceIfDue(into: &alerts)

        // The account's hash is computed once per event and shared by every table keyed by account.
        let accountKey = StableHash.of(event.account)
        let age = ages.observe(accountHash: accountKey, created: event.accountCreated, at: now)
        if configuration.accountRate.enabled { rate(event, accountKey: accountKey, into: &alerts) }
        guard age.isYoung else {
            establishedDomains.add(Self.domainHash(event.recipient), at: now)
            // Old accounts only feed the baselines, and only during the warm-up.
            if configuration.swarm.enabled, age.basis == .warmup, inWarmupTail(now) {
                if let match = mine(event) { seedBaseline(match, accountKey: accountKey, now) }
            } else if learnsFrom(event) {
                // Established traffic teaches the miner the platform's templates, so that a young account's
                // text lands in a slot instead of becoming a template of its own.
                _ = mine(event)
            }
            return
        }
        counters.youngEvents += 1
        let match = mine(event)

        let domainKey = Self.domainHash(event.recipient)
        let burstRule = configuration.burst
        let slot = young.slot(for: accountKey, at: now, name: event.account) {
            YoungAccountState(
                short: SlidingCount(horizonMicroseconds: burstRule.windowSeconds * 1_000_000, bucketCount: Self.windowBuckets),
                long: SlidingCount(horizonMicroseconds: burstRule.longWindowSeconds * 1_000_000, bucketCount: Self.windowBuckets),
                firstEvent: now, ageSeconds: age.ageSeconds, ageBasis: age.basis)
        }
        // One in-place update: the table hands the value out uniquely, so its arrays are not copied.
        young[slot].record(at: now, domain: domainKey, messageID: event.messageID ?? event.queueID, age: age)
        let state = young[slot]

        if configuration.burst.enabled { burst(event, state, into: &alerts) }
        if let match {
            // Spread: recipients in several domains, or in one domain that established senders mail too (victims
            // at a webmail provider). A young account whose recipients all sit in one domain no established
            // account writes to is a new company writing to itself: onboarding, not a campaign.
            let spread = state.isSpread
                || (state.domains.distinct == 1
                    && establishedDomains.estimate(domainKey, at: now) >= Self.publicDomainMinEvents)
            template(event, accountKey: accountKey, accountEvents: Int(state.recipients), spread: spread,
                     match: match, into: &alerts)
        }
        if configuration.fanIn.enabled { fanIn(event, accountKey: accountKey, domainKey: domainKey, into: &alerts) }
        enforceBudgets()
    }

    /// Evicts from the tables that are over their byte budget. Called once per event, after every slot handed
    /// out for the event has been used: eviction can free any slot.
    private mutating func enforceBudgets() {
        young.enforceBudget()
        templates.enforceBudget()
        pairs.enforceBudget()
        fanIn.enforceBudget()
        rates.enforceBudget()
        slotValues.enforceBudget()
    }

    /// The event's template, or `nil` when it has none: no subject or template id, or a reply or forward
    /// (conversation between people, never a platform's notification template).
    private mutating func mine(_ event: SendEvent) -> TemplateMatch? {
        if let template = event.template {
            return miner.mine(event.subject ?? template, explicitTemplate: template)
        }
        guard let subject = event.subject, !Self.isConversation(subject) else { return nil }
        return miner.mine(subject, explicitTemplate: nil)
    }

    /// A fixed hash of an address's domain (after the last `@`), ASCII letters folded to lower case, without
    /// allocating.
    static func domainHash(_ address: String) -> UInt64 {
        var h = StableHash()
        address.withUTF8Bytes { utf8 in
            var start = 0
            for (i, b) in utf8.enumerated() where b == UInt8(ascii: "@") { start = i + 1 }
            var v = h.value
            for i in start..<utf8.count {
                var b = utf8[i]
                if b >= 0x41 && b <= 0x5A { b |= 0x20 }
                v = (v ^ UInt64(b)) &* 0x100_0000_01b3
            }
            h.value = v
        }
        return h.value
    }

    /// A fixed hash of a whole address, ASCII letters folded to lower case, in a namespace apart from domains.
    static func addressHash(_ address: String) -> UInt64 {
        var v: UInt64 = 0x84222325cbf29ce4
        address.withUTF8Bytes { utf8 in
            for var b in utf8 {
                if b >= 0x41 && b <= 0x5A { b |= 0x20 }
                v = (v ^ UInt64(b)) &* 0x100_0000_01b3
            }
        }
        return v
    }

    /// Ends a replay: closes the alerts whose cooldown has passed at the watermark, and reports the evidence
    /// that open alerts gathered since their last record in a final `update` (they stay open: the input ended,
    /// the incident may not have).
    public mutating func finish(into alerts: inout [Alert]) {
        guard let w = watermark else { return }
        emit(lifecycle.advance(to: w), into: &alerts)
        emit(lifecycle.flushPending(at: w), into: &alerts)
    }

    /// Moves event time forward without an event (live mode's idle timer); closes what is due.
    public mutating func advance(to time: EventTime, into alerts: inout [Alert]) {
        if watermark == nil || time > watermark! { watermark = time }
        emit(lifecycle.advance(to: time), into: &alerts)
    }

    private mutating func advanceIfDue(into alerts: inout [Alert]) {
        guard let w = watermark else { return }
        // Closing is checked once per minute of event time: cheap, and deterministic.
        let minute = w.microseconds / 60_000_000
        guard minute != lastAdvance else { return }
        lastAdvance = minute
        emit(lifecycle.advance(to: w), into: &alerts)
    }

    private mutating func emit(_ records: [Alert], into alerts: inout [Alert]) {
        for r in records {
            switch r.action {
            case .create: counters.creates += 1
            case .update: counters.updates += 1
            case .close: counters.closes += 1
            }
            alerts.append(r)
        }
        counters.evictions = tableEvictions
    }

    /// Entries evicted from the bounded tables so far (the source of ``DetectionCounters/evictions``).
    var tableEvictions: UInt64 {
        young.evictions + templates.evictions + pairs.evictions + fanIn.evictions + rates.evictions
            + slotValues.evictions
    }

    /// The last evidence entry of every alert: `"state": {"evicted_keys": N, "approximate": B}`. N is the table
    /// evictions so far, so an analyst sees that tables were under pressure and figures may be undercounts;
    /// `approximate` says whether any figure of the alert is an estimate. Built only with a finding.
    ///
    /// - Complexity: O(1).
    private func stateEvidence(approximate: Bool) -> (String, JSONValue) {
        ("state", .object([
            ("evicted_keys", .int(Int(clamping: tableEvictions))), ("approximate", .bool(approximate)),
        ]))
    }

    // MARK: - Rules

    private mutating func burst(_ event: SendEvent, _ state: YoungAccountState, into alerts: inout [Alert]) {
        let rule = configuration.burst
        let now = event.time
        let short = Int(state.short.value(at: now))
        let long = Int(state.long.value(at: now))
        guard short >= rule.minRecipients || long >= rule.longMinRecipients else { return }
        let ratio = max(Double(short) / Double(rule.minRecipients), Double(long) / Double(rule.longMinRecipients))
        let severity: Severity = ratio >= 4 ? .critical : ratio >= 2 ? .high : .medium
        guard lifecycle.wants(kind: "young_account_burst", key: event.account, severity: severity, accountsTotal: 1,
                              volume: max(short, long), at: now, refreshVolume: true) else { return }
        var evidence: [(String, JSONValue)] = [
            ("recipients_short_window", .int(short)), ("short_window", .string(DurationText.format(rule.windowSeconds))),
            ("short_threshold", .int(rule.minRecipients)), ("recipients_long_window", .int(long)),
            ("long_window", .string(DurationText.format(rule.longWindowSeconds))),
            ("long_threshold", .int(rule.longMinRecipients)), ("recipient_domains", .int(state.domains.distinct)),
        ]
        evidence.append(("account_age_seconds", state.ageSeconds.map { .int(Int($0)) } ?? .null))
        evidence.append(("account_age_basis", .string(state.ageBasis.rawValue)))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        if let s = event.subject { evidence.append(("sample_subject", .string(s))) }
        // Sliding counts are exact; the domain count is a floor ("5" means five or more), not an estimate.
        evidence.append(stateEvidence(approximate: false))
        let finding = Finding(
            kind: "young_account_burst", key: event.account, severity: severity, score: ratio,
            firstEventTime: state.firstEvent, accounts: [event.account], accountsTotal: 1, volume: max(short, long),
            template: nil, evidence: evidence,
            reasons: [
                "Account \(event.account) is \(ageText(state.ageSeconds)) old and sent to \(short) recipients in "
                    + "\(DurationText.format(rule.windowSeconds)) (threshold \(rule.minRecipients)) and \(long) in "
                    + "\(DurationText.format(rule.longWindowSeconds)) (threshold \(rule.longMinRecipients))."
            ])
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    private mutating func template(
        _ event: SendEvent, accountKey: UInt64, accountEvents: Int, spread: Bool, match: TemplateMatch,
        into alerts: inout [Alert]
    ) {
        let now = event.time
        let key = match.id.rawValue
        let slot = templateSlot(match, at: now)
        // Young accounts per slot value (the first four slots of the template).
        for value in match.slots.prefix(4) {
            let valueKey = Self.slotValueKey(template: key, value: value)
            let window = configuration.slots.windowSeconds * 1_000_000
            let vs = slotValues.slot(for: valueKey, at: now, name: "") {
                FanInState(
                    young: SlidingDistinct(configuration: .init(horizonMicroseconds: window, exactCapacity: 64)), first: now)
            }
            slotValues[vs].young.insert(accountKey, at: now)
        }
        // Suspicious slot content.
        var suspicious: SlotIndicators = []
        var suspiciousValue: String?
        for value in match.slots {
            let found = SlotContent.indicators(of: value)
            if SlotContent.score(found) >= configuration.slots.minScore {
                suspicious.formUnion(found)
                suspiciousValue = value
            }
        }
        // The account's use of this template: how much of its sending it is, and the baseline's count.
        var pairHash = StableHash()
        pairHash.value = key
        pairHash.combine(Int64(bitPattern: accountKey))
        let pairSlot = pairs.slot(for: pairHash.value, at: now, name: "") { PairState() }
        pairs[pairSlot].events &+= 1
        let share = Double(pairs[pairSlot].events) / Double(max(1, accountEvents))
        let counts = spread && share >= configuration.swarm.minTemplateShare
        var countInBaseline = false
        if counts {
            let interval = configuration.swarm.windowSeconds * 1_000_000
            if pairs[pairSlot].lastCounted.map({ now.microseconds - $0.microseconds >= interval }) ?? true {
                pairs[pairSlot].lastCounted = now
                // The baseline does not learn from a swarm in progress: while the template's swarm alert is
                // open, its accounts are not counted, or a campaign lasting longer than a window would raise
                // its own bar and stop being reported after the first window.
                countInBaseline = !lifecycle.isOpen(kind: "template_swarm", key: match.id.description)
            }
        }
        templates[slot].recordYoung(
            text: match.text, account: accountKey, at: now, messageID: event.messageID ?? event.queueID,
            suspiciousValue: suspiciousValue, indicators: suspicious, countsForSwarm: counts,
            countInBaseline: countInBaseline)
        let state = templates[slot]
        let template = AlertTemplate(id: match.id.description, text: match.text)
        if configuration.swarm.enabled && spread { swarm(event, state, template, into: &alerts) }
        if configuration.slots.enabled && suspiciousValue != nil { slotContent(event, state, template, into: &alerts) }
    }

    /// Seeds a template's baseline from the last quarter of the warm-up.
    ///
    /// A replay that starts cold has no history: right after the warm-up, accounts that are old but send
    /// rarely keep appearing for the first time and count as young, at a rate that is highest just then. The
    /// rate at which accounts newly appeared on each template in the last quarter of the warm-up, scaled to a
    /// window, is a fair (slightly high) estimate of that trickle, so it is counted into the template's baseline
    /// as if those accounts had been young.
    /// Whether an established account's event is mined to learn templates: one subject in eight, chosen by a
    /// fixed hash of the subject, so the same subjects are chosen in every run. Every template in steady use is
    /// learned, and the miner sees an eighth of the established traffic.
    private func learnsFrom(_ event: SendEvent) -> Bool {
        guard configuration.swarm.enabled || configuration.slots.enabled else { return false }
        if event.template != nil { return true }
        guard let subject = event.subject else { return false }
        return StableHash.of(subject) & 7 == 0
    }

    /// Whether `now` lies in the last quarter of the warm-up, when the baselines are seeded.
    private func inWarmupTail(_ now: EventTime) -> Bool {
        let warmup = configuration.ages.warmupSeconds * 1_000_000
        guard warmup >= 4, let start = ages.streamStart, !ages.warmupEnded(at: now) else { return false }
        return now.microseconds - start.microseconds >= warmup - warmup / 4
    }

    private mutating func seedBaseline(_ match: TemplateMatch, accountKey: UInt64, _ now: EventTime) {
        let warmup = configuration.ages.warmupSeconds * 1_000_000
        let quarter = warmup / 4
        let scale = UInt32(clamping: max(1, (configuration.swarm.windowSeconds * 1_000_000 + quarter / 2) / quarter))
        let key = match.id.rawValue
        var pairHash = StableHash()
        pairHash.value = key
        pairHash.combine(Int64(bitPattern: accountKey))
        guard pairs.find(pairHash.value) == nil else { return }
        _ = pairs.insert(key: pairHash.value, name: "", value: PairState(events: 0, lastCounted: now), at: now)
        let slot = templateSlot(match, at: now)
        templates[slot].baseline.add(scale, at: now)
    }

    /// The template's state, created when new.
    private mutating func templateSlot(_ match: TemplateMatch, at now: EventTime) -> BoundedKeyTable<TemplateState>.Slot {
        let cap = max(16, configuration.maxAlertAccounts)
        let swarmWindow = configuration.swarm.windowSeconds * 1_000_000
        let slotWindow = configuration.slots.windowSeconds * 1_000_000
        let halfLife = configuration.swarm.baselineHalfLifeWindows
        return templates.slot(for: match.id.rawValue, at: now, name: match.id.description) {
            TemplateState(
                text: match.text,
                spreadYoung: SlidingDistinct(configuration: .init(horizonMicroseconds: swarmWindow, exactCapacity: cap)),
                suspiciousYoung: SlidingDistinct(configuration: .init(horizonMicroseconds: slotWindow, exactCapacity: cap)),
                youngMessages: SlidingCount(horizonMicroseconds: swarmWindow, bucketCount: Self.windowBuckets),
                baseline: EWMABaseline(configuration: .init(intervalMicroseconds: swarmWindow, halfLifeIntervals: halfLife)))
        }
    }

    private mutating func swarm(_ event: SendEvent, _ state: TemplateState, _ template: AlertTemplate, into alerts: inout [Alert]) {
        let rule = configuration.swarm
        let now = event.time
        let distinct = state.spreadYoung.value(at: now)
        let count = Int(distinct.value)
        guard count >= rule.minYoungAccounts else { return }
        let base = state.baseline.snapshot(at: now)
        // The baseline counts completed windows only, so the current surge does not raise its own bar.
        let mean = base.completedIntervals > 0 ? base.mean : 0
        let sd = base.completedIntervals > 0 ? base.standardDeviation : 0
        let threshold = max(Double(rule.minYoungAccounts), mean * rule.baselineFactor, mean + rule.baselineSigmas * sd)
        guard Double(count) >= threshold else { return }
        let ratio = Double(count) / threshold
        let severity: Severity = ratio >= 5 || !state.topSlots.isEmpty ? .critical : ratio >= 2 ? .high : .medium
        guard lifecycle.wants(kind: "template_swarm", key: template.id, severity: severity, accountsTotal: count,
                              volume: Int(state.youngMessages.value(at: now)), at: now) else { return }
        let accounts = accountNames(state.spreadYoung, at: now)
        var evidence: [(String, JSONValue)] = [
            ("young_accounts", .int(count)), ("exact", .bool(distinct.isExact)),
            ("window", .string(DurationText.format(rule.windowSeconds))),
            ("threshold", .double(threshold, )), ("min_young_accounts", .int(rule.minYoungAccounts)),
            ("baseline_mean", .double(mean)), ("baseline_stddev", .double(sd)),
            ("baseline_windows", .int(Int(base.completedIntervals))),
            ("young_messages", .int(Int(state.youngMessages.value(at: now)))),
        ]
        evidence.append(contentsOf: ageEvidence(accounts, at: now))
        let slots = slotEvidence(state, template: template, at: now)
        evidence.append(("top_suspicious_slot_values", slots.value))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        evidence.append(stateEvidence(approximate: !distinct.isExact || slots.approximate))
        let finding = Finding(
            kind: "template_swarm", key: template.id, severity: severity, score: ratio,
            firstEventTime: state.firstYoungEvent ?? now, accounts: Array(accounts.prefix(configuration.maxAlertAccounts)),
            accountsTotal: max(count, accounts.count), volume: Int(state.youngMessages.value(at: now)),
            template: template, evidence: evidence,
            reasons: [
                "\(count) young accounts with recipients in several domains used the template \"\(template.text)\" in "
                    + "\(DurationText.format(rule.windowSeconds)); its normal rate is \(format(mean)) per window "
                    + "(threshold \(format(threshold)))."
            ])
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    private mutating func slotContent(
        _ event: SendEvent, _ state: TemplateState, _ template: AlertTemplate, into alerts: inout [Alert]
    ) {
        let rule = configuration.slots
        let now = event.time
        let distinct = state.suspiciousYoung.value(at: now)
        let count = Int(distinct.value)
        guard count >= rule.minYoungAccounts else { return }
        let strongest = state.topSlots.map { SlotContent.score($0.indicators) }.max() ?? 0
        let severity: Severity = count >= 4 * rule.minYoungAccounts ? .critical : strongest >= 4 ? .high : .medium
        guard lifecycle.wants(kind: "slot_content", key: template.id, severity: severity, accountsTotal: count,
                              volume: count, at: now) else { return }
        let accounts = accountNames(state.suspiciousYoung, at: now)
        var evidence: [(String, JSONValue)] = [
            ("young_accounts", .int(count)), ("exact", .bool(distinct.isExact)),
            ("window", .string(DurationText.format(rule.windowSeconds))), ("threshold", .int(rule.minYoungAccounts)),
            ("min_slot_score", .double(rule.minScore)),
            ("indicators", .object(state.indicatorCounts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        let slots = slotEvidence(state, template: template, at: now)
        evidence.append(("top_suspicious_slot_values", slots.value))
        evidence.append(contentsOf: ageEvidence(accounts, at: now))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        evidence.append(stateEvidence(approximate: !distinct.isExact || slots.approximate))
        let names = SlotIndicators(rawValue: state.topSlots.reduce(0) { $0 | $1.indicators.rawValue }).names
        let finding = Finding(
            kind: "slot_content", key: template.id, severity: severity, score: Double(count) * max(1, strongest),
            firstEventTime: state.firstSuspiciousEvent ?? now, accounts: Array(accounts.prefix(configuration.maxAlertAccounts)),
            accountsTotal: max(count, accounts.count), volume: count, template: template, evidence: evidence,
            reasons: [
                "\(count) young accounts put text with \(names.joined(separator: ", ")) into a slot of the template "
                    + "\"\(template.text)\" in \(DurationText.format(rule.windowSeconds)) (threshold "
                    + "\(rule.minYoungAccounts)), e.g. \"\(state.topSlots.max { $0.count < $1.count }?.value ?? "")\"."
            ])
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    private mutating func fanIn(_ event: SendEvent, accountKey: UInt64, domainKey: UInt64, into alerts: inout [Alert]) {
        let rule = configuration.fanIn
        let now = event.time
        // Keys are hashed from the bytes; the display name is only made when a key is new.
        let targets: [(domain: Bool, key: UInt64, minimum: Int)] =
            rule.minYoungAccountsPerDomain > 0
            ? [(false, Self.addressHash(event.recipient), rule.minYoungAccountsPerRecipient),
               (true, domainKey ^ 0x5bd1_e995_5bd1_e995, rule.minYoungAccountsPerDomain)]
            : [(false, Self.addressHash(event.recipient), rule.minYoungAccountsPerRecipient)]
        for (isDomain, key, minimum) in targets {
            let capacity = max(16, min(configuration.maxAlertAccounts, 256))
            let slot = fanIn.slot(
                for: key, at: now,
                name: isDomain
                    ? "domain:" + String(event.recipient.lowercased().addressDomain)
                    : "recipient:" + event.recipient.lowercased()
            ) {
                FanInState(
                    young: SlidingDistinct(configuration: .init(
                        horizonMicroseconds: rule.windowSeconds * 1_000_000, exactCapacity: capacity)),
                    first: now)
            }
            fanIn[slot].young.insert(accountKey, at: now)
            let state = fanIn[slot]
            let distinct = state.young.value(at: now)
            guard Int(distinct.value) >= minimum else { continue }
            let name = fanIn.name(slot)
            let severity: Severity = Int(distinct.value) >= 3 * minimum ? .high : .medium
            guard lifecycle.wants(kind: "recipient_fanin", key: name, severity: severity,
                                  accountsTotal: Int(distinct.value), volume: Int(distinct.value), at: now)
            else { continue }
            let accounts = accountNames(state.young, at: now)
            let evidence: [(String, JSONValue)] = [
                ("target", .string(name)), ("young_accounts", .int(Int(distinct.value))), ("exact", .bool(distinct.isExact)),
                ("window", .string(DurationText.format(rule.windowSeconds))), ("threshold", .int(minimum)),
            ] + ageEvidence(accounts, at: now) + [stateEvidence(approximate: !distinct.isExact)]
            let finding = Finding(
                kind: "recipient_fanin", key: name, severity: severity,
                score: Double(distinct.value) / Double(minimum), firstEventTime: state.first,
                accounts: Array(accounts.prefix(configuration.maxAlertAccounts)),
                accountsTotal: max(Int(distinct.value), accounts.count), volume: Int(distinct.value), template: nil,
                evidence: evidence,
                reasons: [
                    "\(name) received mail from \(distinct.value) young accounts in "
                        + "\(DurationText.format(rule.windowSeconds)) (threshold \(minimum))."
                ])
            emit(lifecycle.take(finding, at: now), into: &alerts)
        }
    }

    private mutating func rate(_ event: SendEvent, accountKey key: UInt64, into alerts: inout [Alert]) {
        let rule = configuration.accountRate
        let now = event.time
        let slot = rates.slot(for: key, at: now, name: event.account) {
            RateState(count: SlidingCount(horizonMicroseconds: rule.windowSeconds * 1_000_000, bucketCount: Self.windowBuckets), first: now)
        }
        rates[slot].count.add(1, at: now)
        let state = rates[slot]
        let n = Int(state.count.value(at: now))
        guard n > rule.limit else { return }
        let finding = Finding(
            kind: "account_rate", key: event.account, severity: .medium, score: Double(n) / Double(rule.limit),
            firstEventTime: state.first, accounts: [event.account], accountsTotal: 1, volume: n, template: nil,
            evidence: [("recipients", .int(n)), ("window", .string(DurationText.format(rule.windowSeconds))),
                       ("limit", .int(rule.limit)), stateEvidence(approximate: false)],
            reasons: ["Account \(event.account) sent to \(n) recipients in \(DurationText.format(rule.windowSeconds)) (limit \(rule.limit))."])
        emit(lifecycle.take(finding, at: now), into: &alerts)
    }

    /// Reply and forward markers in common mail clients' languages (English, German, Scandinavian, Finnish,
    /// Dutch, French, Spanish/Italian/Portuguese, Polish), compared case-insensitively before the first `:`.
    static let conversationPrefixes: Set<String> = [
        "re", "fw", "fwd", "aw", "wg", "sv", "vs", "vl", "antw", "doorst", "tr", "rif", "ri", "enc", "odp", "pd", "r",
    ]

    /// Whether a subject starts with a reply or forward marker (`Re:`, `Fwd:`, `AW:`, `Re[2]:` ...): up to 6
    /// ASCII letters, optionally a `[n]` or `(n)` counter, then `:`. Reads at most 16 bytes, allocates nothing.
    package static func isConversation(_ subject: String) -> Bool {
        return subject.withUTF8Bytes { utf8 -> Bool in
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
    static let conversationPrefixWords: Set<UInt64> = Set(conversationPrefixes.map { p in
        p.utf8.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    })

    // MARK: - Evidence helpers

    /// The names of the accounts a distinct counter holds (while exact), sorted.
    private func accountNames(_ distinct: SlidingDistinct, at now: EventTime) -> [String] {
        var names: [String] = []
        for hash in distinct.sampleItems(limit: configuration.maxAlertAccounts, at: now) {
            if let s = young.find(hash) { names.append(young.name(s)) }
        }
        names.sort()
        return names
    }

    private func ageEvidence(_ accounts: [String], at now: EventTime) -> [(String, JSONValue)] {
        let ages = accounts.compactMap { self.ages.peek(account: $0, at: now)?.ageSeconds }.sorted()
        guard let first = ages.first, let last = ages.last else {
            return [("account_age_seconds", .null)]
        }
        return [("account_age_seconds", .object([
            ("min", .int(Int(first))), ("median", .int(Int(ages[ages.count / 2]))), ("max", .int(Int(last))),
        ]))]
    }

    /// The most used suspicious slot values, each with its uses and the distinct young accounts that used it in
    /// the slot-content window (`null` when the value's counter was evicted); `approximate` is true when one of
    /// those distinct counts is an estimate.
    private func slotEvidence(
        _ state: TemplateState, template: AlertTemplate, at now: EventTime
    ) -> (value: JSONValue, approximate: Bool) {
        let top = state.topSlots.sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }.prefix(5)
        let templateKey = UInt64(template.id, radix: 16) ?? StableHash.of(template.id)
        var approximate = false
        let values: [JSONValue] = top.map { entry in
            var young = JSONValue.null
            if let s = slotValues.find(Self.slotValueKey(template: templateKey, value: entry.value)) {
                let distinct = slotValues[s].young.value(at: now)
                if !distinct.isExact { approximate = true }
                young = .int(Int(distinct.value))
            }
            return .object([("value", .string(entry.value)), ("count", .int(entry.count)), ("young_accounts", young),
                            ("indicators", .array(entry.indicators.names.map { .string($0) }))])
        }
        return (.array(values), approximate)
    }

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

private func ageText(_ seconds: Int64?) -> String {
    guard let s = seconds else { return "of unknown age, first seen" }
    return DurationText.format(s >= 3600 ? s / 3600 * 3600 : s >= 60 ? s / 60 * 60 : s)
}

private func format(_ d: Double) -> String {
    let r = (d * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
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
