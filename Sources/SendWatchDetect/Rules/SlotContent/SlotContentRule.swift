public import SendWatchCore
import SendWatchWindows

/// `slot_content`: a template's slot values from young accounts carry what a name field should not.
///
/// What counts as suspicious is ``SlotContent``'s classification at this rule's `min_score`; the template's
/// young accounts with suspicious values, its top values and their indicators are the template's shared
/// features (`TemplateState`), which `template_swarm` reads too. The rule keeps no table of its own.
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

    /// The rule's name.
    public static let name = RuleName("slot_content")
    let configuration: Configuration
}

extension SlotContentRule: DetectionRule {
    static let summary = "young accounts put URLs, phone numbers, money ... into a template slot"
    static let keys: [ConfigKey<Configuration>] = [
        .duration("window", \.windowSeconds, doc: "The window of the young accounts with suspicious slot values."),
        .integer(
            "min_young_accounts", \.minYoungAccounts, in: 1...10_000_000,
            doc: "Distinct young accounts with suspicious slot values on one template in the window that fire."),
        .number(
            "min_score", \.minScore, in: 0.5...100,
            doc: "The least indicator score of a suspicious slot value (a URL or a phone number scores 2)."),
    ]
    static var trigger: RuleTrigger { .templateUse }

    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        features.suspiciousWindowSeconds = configuration.windowSeconds
        features.minSlotScore = configuration.minScore
        if configuration.enabled { features.learnsTemplates = true }
    }

    init(configuration: Configuration, limits: RuleLimits) { self.configuration = configuration }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        guard let use = facts.template, use.suspicious else { return }
        let state = context.tables.templates[use.slot]
        let template = use.template
        let rule = configuration
        let now = event.time
        let distinct = state.suspiciousYoung.value(at: now)
        let count = Int(distinct.value)
        guard count >= rule.minYoungAccounts else { return }
        let strongest = state.topSlots.map { SlotContent.score($0.indicators) }.max() ?? 0
        let severity: Severity = count >= 4 * rule.minYoungAccounts ? .critical : strongest >= 4 ? .high : .medium
        let arrivals = state.suspiciousArrivals
        guard
            context.wants(
                Self.name, key: template.id, severity: severity, accountsTotal: count,
                volume: arrivals, at: now, refreshVolume: true)
        else { return }
        let accounts = context.accountNames(state.suspiciousYoung, at: now)
        var evidence: [(String, JSONValue)] = [
            ("young_accounts", .int(count)), ("exact", .bool(distinct.isExact)),
            ("window", .string(DurationText.format(rule.windowSeconds))), ("threshold", .int(rule.minYoungAccounts)),
            ("min_slot_score", .double(rule.minScore)),
            ("indicators", .object(state.indicatorCounts.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ]
        let slots = context.slotEvidence(state, template: template, at: now)
        evidence.append(("top_suspicious_slot_values", slots.value))
        evidence.append(contentsOf: context.ageEvidence(accounts, at: now))
        evidence.append(("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })))
        evidence.append(context.stateEvidence(approximate: !distinct.isExact || slots.approximate))
        let names = SlotIndicators(rawValue: state.topSlots.reduce(0) { $0 | $1.indicators.rawValue }).names
        let finding = Finding(
            kind: Self.name, key: template.id, severity: severity, score: Double(count) * max(1, strongest),
            firstEventTime: state.firstSuspiciousEvent ?? now,
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
