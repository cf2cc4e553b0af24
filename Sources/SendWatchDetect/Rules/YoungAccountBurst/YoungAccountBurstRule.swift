import SendWatchCore
import SendWatchWindows

/// `young_account_burst`: one young account sends to many recipients in a short time.
///
/// Its per-account state, the account's recipients over the two windows (``Windows``), is declared here and
/// kept inline in the engine's young-account entry, which the engine updates once per young event and evicts
/// under the young-account table's budget; the rule keeps no table of its own.
public struct YoungAccountBurstRule: ConfiguredRule, Sendable {
    /// The settings of `rules.young_account_burst`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = true
        /// The short window. Default 10 minutes.
        public var windowSeconds: Int64 = 600
        /// Recipients (message-recipient events) in the short window that fire. Default 100.
        public var minRecipients = 100
        /// The long window. Default 1 hour.
        public var longWindowSeconds: Int64 = 3600
        /// Recipients in the long window that fire. Default 250.
        public var longMinRecipients = 250
        public init() {}
    }

    /// The rule's name.
    public static let name = RuleName("young_account_burst")
    let configuration: Configuration
}

extension YoungAccountBurstRule: DetectionRule {
    static let summary = "one young account sends to many recipients"
    static let windowDoc = "The short window."
    static let keys: [ConfigKey<Configuration>] = [
        .integer(
            "min_recipients", \.minRecipients, in: 1...100_000_000,
            doc: "Recipients of one young account in the short window that fire."),
        .duration("long_window", \.longWindowSeconds, doc: "The long window."),
        .integer(
            "long_min_recipients", \.longMinRecipients, in: 1...100_000_000,
            doc: "Recipients of one young account in the long window that fire."),
    ]
    static var trigger: RuleTrigger { .youngAccount }

    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        features.recentWindowSeconds = configuration.windowSeconds
        features.longRecentWindowSeconds = configuration.longWindowSeconds
    }

    init(configuration: Configuration, limits: RuleLimits) { self.configuration = configuration }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        guard let slot = facts.young else { return }
        let state = context.tables.young[slot]
        let rule = configuration
        let now = event.time
        let (short, long) = state.burst.recipients(at: now)
        guard short >= rule.minRecipients || long >= rule.longMinRecipients else { return }
        let ratio = max(Double(short) / Double(rule.minRecipients), Double(long) / Double(rule.longMinRecipients))
        let severity: Severity = ratio >= 4 ? .critical : ratio >= 2 ? .high : .medium
        guard
            context.wants(
                Self.name, key: event.account, severity: severity, accountsTotal: 1,
                volume: max(short, long), at: now, refreshVolume: true)
        else { return }
        // Made at every event of a firing account whose count changed (`refreshVolume`), and nearly always held
        // and replaced by the next: its text is rendered only for a record or a checkpoint (``FindingText``).
        let text = FindingTextOfBurst(
            account: event.account, rule: rule, short: short, long: long, domains: state.domains.distinct,
            ageSeconds: state.ageSeconds, ageBasis: state.ageBasis, samples: state.samples, subject: event.subject,
            evictions: context.evictions)
        let finding = Finding(
            kind: Self.name, key: event.account, severity: severity, score: ratio,
            firstEventTime: state.firstEvent, accounts: [event.account], accountsTotal: 1, volume: max(short, long),
            template: nil, text: text)
        context.take(finding, samples: state.samples, at: now, into: &alerts)
    }

    /// The figures of a finding's evidence and reason, taken at the finding (see ``FindingText``).
    final class FindingTextOfBurst: FindingText {
        let account: String
        let rule: Configuration
        let short: Int
        let long: Int
        let domains: Int
        let ageSeconds: Int64?
        let ageBasis: AccountAge.Basis
        /// The account's samples at the finding, for its message ids (shares the young entry's buffer).
        let samples: AccountSample
        let subject: String?
        /// The evictions at the finding, for the `state` entry (``DetectionContext/stateEvidence(approximate:)``).
        let evictions: UInt64

        init(
            account: String, rule: Configuration, short: Int, long: Int, domains: Int, ageSeconds: Int64?,
            ageBasis: AccountAge.Basis, samples: AccountSample, subject: String?, evictions: UInt64
        ) {
            self.account = account
            self.rule = rule
            self.short = short
            self.long = long
            self.domains = domains
            self.ageSeconds = ageSeconds
            self.ageBasis = ageBasis
            self.samples = samples
            self.subject = subject
            self.evictions = evictions
        }

        func evidence() -> [(String, JSONValue)] {
            var evidence: [(String, JSONValue)] = [
                ("recipients_short_window", .int(short)),
                ("short_window", .string(DurationText.format(rule.windowSeconds))),
                ("short_threshold", .int(rule.minRecipients)), ("recipients_long_window", .int(long)),
                ("long_window", .string(DurationText.format(rule.longWindowSeconds))),
                ("long_threshold", .int(rule.longMinRecipients)), ("recipient_domains", .int(domains)),
            ]
            evidence.append(("account_age_seconds", ageSeconds.map { .int(Int($0)) } ?? .null))
            evidence.append(("account_age_basis", .string(ageBasis.rawValue)))
            evidence.append(("sample_message_ids", .array(samples.values(.messageIDs).map { .string($0) })))
            if let s = subject { evidence.append(("sample_subject", .string(s))) }
            // Sliding counts are exact; the domain count is a floor ("5" means five or more), not an estimate.
            evidence.append(DetectionContext.stateEvidence(evictions: evictions, approximate: false))
            return evidence
        }

        func reasons() -> [String] {
            [
                "Account \(account) is \(YoungAccountBurstRule.ageText(ageSeconds)) old and sent to \(short) recipients in "
                    + "\(DurationText.format(rule.windowSeconds)) (threshold \(rule.minRecipients)) and \(long) in "
                    + "\(DurationText.format(rule.longWindowSeconds)) (threshold \(rule.longMinRecipients))."
            ]
        }
    }

    /// An age for the reason text, rounded down to whole hours or minutes.
    private static func ageText(_ seconds: Int64?) -> String {
        guard let s = seconds else { return "of unknown age, first seen" }
        return DurationText.format(s >= 3600 ? s / 3600 * 3600 : s >= 60 ? s / 60 * 60 : s)
    }
}
