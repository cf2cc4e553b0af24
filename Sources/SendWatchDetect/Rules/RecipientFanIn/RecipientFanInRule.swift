import SendWatchCore
import SendWatchWindows

/// `recipient_fanin`: one recipient, or one recipient domain, receives from many distinct young accounts.
///
/// A recipient that established accounts already mail (the engine's filter of established recipients) is left
/// out of the per-recipient check while `ignore_established_recipients` is on: a shared mailbox that new
/// accounts copy is known to the platform. A false positive of the filter (about 2 %) leaves out an unknown
/// recipient too.
///
/// Memory: its table of recipients and recipient domains takes 30 % of the detection memory budget (at most
/// 500,000 entries); at a bound the recipient updated least recently is evicted and starts over. An entry holds
/// no name (a recipient's name took a heap string of about 80 bytes, as much as the rest of a typical entry, on
/// a log where nearly every young account's recipient is new): an alert's target (`recipient:ADDRESS` or
/// `domain:DOMAIN`, lower-cased) is made from the event that reaches the threshold, whose address has the
/// entry's key.
public struct RecipientFanInRule: ConfiguredRule, Sendable {
    /// The settings of `rules.recipient_fanin`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = true
        /// The window. Default 1 hour.
        public var windowSeconds: Int64 = 3600
        /// Distinct young accounts sending to one recipient in the window that fire. Default 4.
        public var minYoungAccountsPerRecipient = 4
        /// Distinct young accounts sending to one recipient domain in the window that fire; 0 turns the domain
        /// check off. Default 0 (off): on platforms whose customers mail the big webmail domains, legitimate new
        /// accounts alone reach any fixed number there, and every young sender to the domain would be listed.
        /// Worth turning on for business-to-business traffic with diverse recipient domains.
        public var minYoungAccountsPerDomain = 0
        /// Whether a recipient that established accounts already mail is left out of the per-recipient check.
        /// Default true: a shared mailbox (an onboarding or partner address) that many new accounts copy once
        /// each is a known correspondent of the platform, not a target. The memory of established recipients is
        /// a filter sized by `rules.concentrated_strangers.remembered_recipients`.
        public var ignoreEstablishedRecipients = true
        public init() {}
    }

    /// The rule's name.
    public static let name = RuleName("recipient_fanin")
    let configuration: Configuration
    /// Young senders per recipient (`recipient:` names) and recipient domain (`domain:` names).
    var table: RuleTable<YoungSenders>
    /// The window and exact capacity of each entry's distinct count of young accounts.
    let young: SlidingDistinct.Configuration
}

extension RecipientFanInRule: YoungCountTableRule {
    static let summary = "one recipient or domain receives from many young accounts"
    static let keys: [ConfigKey<Configuration>] = [
        .integer(
            "min_young_accounts_per_recipient", \.minYoungAccountsPerRecipient, in: 1...10_000_000,
            doc: "Distinct young accounts sending to one recipient in the window that fire."),
        .integer(
            "min_young_accounts_per_domain", \.minYoungAccountsPerDomain, in: 0...10_000_000, null: 0,
            doc: "The same per recipient domain; 0 = off. On webmail-heavy traffic legitimate new accounts",
            "alone reach any number per domain."),
        .bool(
            "ignore_established_recipients", \.ignoreEstablishedRecipients,
            doc: "Leave out recipients that established accounts already mail (a shared mailbox new accounts",
            "copy); the filter's size is rules.concentrated_strangers.remembered_recipients."),
    ]
    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        if configuration.enabled && configuration.ignoreEstablishedRecipients {
            features.remembersEstablishedRecipients = true
        }
    }
    static var budgetShare: BudgetShare? { BudgetShare(3, of: 10) }
    static var tableName: String { "recipients" }
    static var maxEntries: Int { 500_000 }

    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        let rule = configuration
        let now = event.time
        let known =
            rule.ignoreEstablishedRecipients && context.establishedRecipients?.contains(facts.recipientKey) == true
        // Keys are hashed from the bytes; entries carry no name (see the type's Memory): the target's name is
        // made from the event only when it reaches the threshold.
        var targets: [(domain: Bool, key: UInt64, minimum: Int)] = []
        if !known { targets.append((false, facts.recipientKey, rule.minYoungAccountsPerRecipient)) }
        if rule.minYoungAccountsPerDomain > 0 {
            targets.append((true, facts.domainKey ^ 0x5bd1_e995_5bd1_e995, rule.minYoungAccountsPerDomain))
        }
        for (isDomain, key, minimum) in targets {
            let young = young
            let slot = table.entries.slot(for: key, at: now, name: "") {
                YoungSenders(young: SlidingDistinct(configuration: young), first: now)
            }
            table.report(to: &context)
            table.entries[slot].young.insert(facts.accountKey, at: now)
            let state = table.entries[slot]
            let distinct = state.young.value(at: now)
            guard Int(distinct.value) >= minimum else { continue }
            let name = Self.targetName(event.recipient, isDomain: isDomain)
            let severity: Severity = Int(distinct.value) >= 3 * minimum ? .high : .medium
            guard
                context.wants(
                    Self.name, key: name, severity: severity,
                    accountsTotal: Int(distinct.value), volume: Int(distinct.value), at: now)
            else { continue }
            let accounts = context.accountNames(state.young, at: now)
            let evidence: [(String, JSONValue)] =
                [("target", .string(name))]
                + DetectionContext.youngAccountsEvidence(
                    distinct, windowSeconds: rule.windowSeconds, threshold: .int(minimum))
                + context.ageEvidence(accounts, at: now) + [context.stateEvidence(approximate: !distinct.isExact)]
            let finding = Finding(
                kind: Self.name, key: name, severity: severity,
                score: Double(distinct.value) / Double(minimum), firstEventTime: state.first,
                accounts: Array(accounts.prefix(context.maxAlertAccounts)),
                accountsTotal: max(Int(distinct.value), accounts.count), volume: Int(distinct.value), template: nil,
                evidence: evidence,
                reasons: [
                    "\(name) received mail from \(distinct.value) young accounts in "
                        + "\(DurationText.format(rule.windowSeconds)) (threshold \(minimum))."
                ])
            context.take(finding, at: now, into: &alerts)
        }
    }
}

extension RecipientFanInRule {
    /// The name of an alert's target: `recipient:` and the lower-cased address, or `domain:` and its lower-cased
    /// domain (after the last `@`).
    static func targetName(_ recipient: String, isDomain: Bool) -> String {
        isDomain
            ? "domain:" + String(recipient.lowercased().addressDomain) : "recipient:" + recipient.lowercased()
    }
}
