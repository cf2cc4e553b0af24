public import SendWatchCore
import SendWatchWindows

/// `template_swarm`: many distinct young accounts use the same template within a window, well above that
/// template's normal rate of young accounts.
///
/// Only young accounts whose recipients are spread over at least two recipient domains, or sit in one domain
/// that established senders also mail (a webmail provider), count: a new tenant inviting colleagues on its own
/// domain, which no established account writes to, does not. The counts and the baseline are the template's
/// shared features (`TemplateState`), kept with the windows this rule's settings give them; the rule keeps
/// no table of its own. Its evidence lists the template's top suspicious slot values and its severity rises
/// when there are any: both read from the same shared features.
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

    /// The rule's name.
    public static let name = RuleName("template_swarm")
    let configuration: Configuration
}

extension TemplateSwarmRule: DetectionRule {
    static let summary = "many young accounts with spread recipients use one template"
    static let keys: [ConfigKey<Configuration>] = [
        .duration("window", \.windowSeconds, doc: "The window, and the interval of the template's baseline."),
        .integer(
            "min_young_accounts", \.minYoungAccounts, in: 1...10_000_000,
            doc: "Distinct young accounts on the template in the window that fire at least."),
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

    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        features.spreadWindowSeconds = configuration.windowSeconds
        features.baselineHalfLifeWindows = configuration.baselineHalfLifeWindows
        features.minTemplateShare = configuration.minTemplateShare
        features.baselinePausedBy = name
        if configuration.enabled {
            features.seedsBaseline = true
            features.learnsTemplates = true
        }
    }

    init(configuration: Configuration, limits: RuleLimits) { self.configuration = configuration }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        guard let use = facts.template, use.spread else { return }
        let state = context.tables.templates[use.slot]
        let template = use.template
        let rule = configuration
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
        guard
            context.wants(
                Self.name, key: template.id, severity: severity, accountsTotal: count,
                volume: Int(state.youngMessages.value(at: now)), at: now)
        else { return }
        let accounts = context.accountNames(state.spreadYoung, at: now)
        var evidence: [(String, JSONValue)] = [
            ("young_accounts", .int(count)), ("exact", .bool(distinct.isExact)),
            ("window", .string(DurationText.format(rule.windowSeconds))),
            ("threshold", .double(threshold)), ("min_young_accounts", .int(rule.minYoungAccounts)),
            ("baseline_mean", .double(mean)), ("baseline_stddev", .double(sd)),
            ("baseline_windows", .int(Int(base.completedIntervals))),
            ("young_messages", .int(Int(state.youngMessages.value(at: now)))),
        ]
        evidence.append(contentsOf: context.ageEvidence(accounts, at: now))
        let slots = context.slotEvidence(state, template: template, at: now)
        evidence.append(("top_suspicious_slot_values", slots.value))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        evidence.append(context.stateEvidence(approximate: !distinct.isExact || slots.approximate))
        let finding = Finding(
            kind: Self.name, key: template.id, severity: severity, score: ratio,
            firstEventTime: state.firstYoungEvent ?? now, accounts: Array(accounts.prefix(context.maxAlertAccounts)),
            accountsTotal: max(count, accounts.count), volume: Int(state.youngMessages.value(at: now)),
            template: template, evidence: evidence,
            reasons: [
                "\(count) young accounts with recipients in several domains used the template \"\(template.text)\" in "
                    + "\(DurationText.format(rule.windowSeconds)); its normal rate is \(reasonNumber(mean)) per window "
                    + "(threshold \(reasonNumber(threshold)))."
            ])
        context.take(finding, at: now, into: &alerts)
    }
}
