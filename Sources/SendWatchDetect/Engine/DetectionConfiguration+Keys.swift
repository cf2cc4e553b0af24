public import SendWatchCore
import SendWatchTemplates

extension DetectionConfiguration {
    /// The configuration sections of the detection stage, each key declared once with its default (this
    /// type's), range and doc: `detect`, `alerts`, `templates`, then `rules.<name>` for every registered rule
    /// (declared in the rule's folder).
    ///
    /// The ranges are those the code can take: the distinct counts keep at most 4,096 accounts exactly, so
    /// `max_alert_accounts` stops there; the tables and the first-seen table grow to their bounds as they fill,
    /// so the largest budgets allocate nothing up front.
    public static var configurationSections: [ConfigSection<DetectionConfiguration>] {
        typealias Key = ConfigKey<DetectionConfiguration>
        let years = Key.maxDurationSeconds
        let detect = ConfigSection<DetectionConfiguration>(
            ["detect"],
            keys: [
                .duration(
                    "warmup", \.ages.warmupSeconds, in: 0...years,
                    doc: "Accounts first seen within this long after the first event count as established."),
                .duration(
                    "new_account_age", \.ages.newAccountAgeSeconds, in: 1...years,
                    doc: "An account younger than this (creation time, else first seen) is young."),
                .duration(
                    "allowed_lateness", \.allowedLatenessSeconds, in: 0...years,
                    doc: "Events further than this behind the newest event are dropped and counted (late_events)."),
                .duration(
                    "max_time_jump", \.maxTimeJumpSeconds, in: 1...years,
                    doc: "An event further ahead of the newest event than this moves event time only when 16",
                    "distinct lines in a row agree (a gap in the logs); until then such events (a broken clock, a",
                    "forged timestamp) are set aside and counted (time_outliers)."),
                .mebibytes(
                    "memory_budget_mb", \.memoryBudgetBytes, in: 1...(1 << 20),
                    doc: "Memory for the detection tables, in MiB; at the bound the least recently updated key is",
                    "evicted. Shares: young accounts 30 %, templates 10 %, template_swarm's templates and pairs",
                    "15 %, slot_content's templates 5 %, recipients 30 %, account rates 5 %, slot values 5 %,",
                    "artefacts 5 %, stranger-mailing accounts 5 %; an opt-in rule's share scales the others down."),
                .integer(
                    "max_tracked_accounts", \.ages.maxTrackedAccounts, in: 1...500_000_000,
                    doc: "Accounts in the first-seen table; evicted established accounts are remembered in a Bloom",
                    "filter."),
                .integer(
                    "max_alert_accounts", \.maxAlertAccounts, in: 1...4096,
                    doc: "Most accounts listed in one alert record (accounts_total has the full number); also the",
                    "exact capacity of the distinct counts of young accounts per template."),
            ])
        let alerts = ConfigSection<DetectionConfiguration>(
            ["alerts"],
            keys: [
                .duration(
                    "cooldown", \.lifecycle.cooldownSeconds, in: 1...years,
                    doc: "An alert with no new evidence for this long is closed."),
                .duration(
                    "min_update_interval", \.lifecycle.minUpdateIntervalSeconds, in: 0...years,
                    doc: "Least time between two updates of an alert, unless it grew by growth_factor or its",
                    "severity rose."),
                .number(
                    "growth_factor", \.lifecycle.growthFactor, in: 1.01...1000,
                    doc: "Growth of an alert's accounts or volume that makes an update at once."),
                .integer(
                    "max_open", \.lifecycle.maxOpenAlerts, in: 1...10_000_000,
                    doc: "Most alerts open at once; beyond, the quietest is closed early. Also the most closed",
                    "alerts remembered for incident_memory; beyond, the one closed first is forgotten."),
                .duration(
                    "incident_memory", \.lifecycle.incidentMemorySeconds, in: 0...years,
                    doc: "How long a closed alert's accounts and lure artefacts still link a new alert to its",
                    "incident (a campaign slower than the cooldown stays one incident); 0 links open alerts only."),
            ])
        let templates = ConfigSection<DetectionConfiguration>(
            ["templates"], doc: ["Subject template miner (used when no template header or template_id is logged)."],
            keys: [
                .integer(
                    "max_templates", \.miner.maxTemplates, in: 1...10_000_000,
                    doc: "Most live templates; at the bound the least recently matched one is evicted."),
                .number(
                    "similarity", \.miner.similarity, in: 0.05...1,
                    doc: "Share of a template's fixed words a subject must contain, in order, to join it."),
                .integer(
                    "max_tokens", \.miner.maxTokens, in: 2...1024,
                    doc: "Most tokens per subject; the rest becomes the tail of the last slot."),
                .integer(
                    "max_candidates", \.miner.maxCandidates, in: 1...10_000,
                    doc: "Templates compared in full per subject that misses the cache."),
                .integer(
                    "max_postings_per_token", \.miner.maxPostingsPerToken, in: 1...10_000_000,
                    doc: "Templates remembered per word in the index; the oldest is dropped at the bound."),
                .integer(
                    "cache_size", \.miner.cacheSize, in: 1...100_000_000,
                    doc: "Entries of the exact-subject cache."),
                .integer(
                    "max_slot_bytes", \.miner.maxSlotBytes, in: 1...(1 << 20),
                    doc: "Longest slot value kept, in bytes; longer values are cut."),
            ])
        return [detect, alerts, templates] + RuleRegistry.rules.map { ruleSection($0) }
    }

    /// The section `rules.<name>` of a rule: `enabled` and `window`, which every rule has, then the keys the
    /// rule declares.
    private static func ruleSection<R: DetectionRule>(_ rule: R.Type) -> ConfigSection<DetectionConfiguration> {
        let shared: [ConfigKey<R.Configuration>] = [
            .bool("enabled", \.enabled, doc: "Whether the rule runs."),
            .duration("window", \.windowSeconds, doc: R.windowDoc),
        ]
        return ConfigSection<R.Configuration>([R.name.rawValue], doc: [R.summary], keys: shared + R.keys)
            .nested(under: ["rules"])
            .scoped(get: { $0.rules[R.Configuration.self] }, set: { $0.rules[R.Configuration.self] = $1 })
    }
}
