public import SendWatchTemplates

/// Every setting of the detection stage, with its default. Times are seconds of event time.
public struct DetectionConfiguration: Sendable {
    /// Account age: warm-up, new-account age, first-seen table bound.
    public var ages: AccountAges.Configuration
    /// Alert lifecycle: cooldown, update pacing, open-alert bound.
    public var lifecycle: AlertLifecycle.Configuration
    /// The subject template miner.
    public var miner: TemplateMiner.Configuration
    /// How far behind the newest event an event may arrive and still be counted. Older events are dropped
    /// and counted (`late_events`). Default 5 minutes.
    public var allowedLatenessSeconds: Int64
    /// How far ahead of the newest event an event may jump without confirmation. An event further ahead is
    /// counted as a time outlier (`time_outliers`) unless the next events agree with its time (a real gap in
    /// the logs). Default 6 hours.
    public var maxTimeJumpSeconds: Int64 = 6 * 3600
    /// Memory for the detection tables (young accounts, templates, pairs, recipients, ...), in bytes; shared out as
    /// documented on ``DetectionEngine``. Default 512 MiB, which leaves room on a 2 GB box.
    public var memoryBudgetBytes: Int
    /// Most accounts listed in one alert record (`accounts_total` gives the full number). Default 1000. It is
    /// also the exact capacity of each template's distinct counts of young accounts, and `SlidingDistinct`
    /// keeps at most 4,096 items exactly: hence the key's range, 1 to 4,096.
    public var maxAlertAccounts: Int
    /// The settings of every rule (`rules.<name>.*`), each read and set through ``subscript(_:)``.
    public var rules: RuleSettings

    public init(
        ages: AccountAges.Configuration = .init(), lifecycle: AlertLifecycle.Configuration = .init(),
        miner: TemplateMiner.Configuration = .init(), allowedLatenessSeconds: Int64 = 300,
        memoryBudgetBytes: Int = 512 << 20, maxAlertAccounts: Int = 1000, rules: RuleSettings = .init()
    ) {
        self.ages = ages
        self.lifecycle = lifecycle
        self.miner = miner
        self.allowedLatenessSeconds = allowedLatenessSeconds
        self.memoryBudgetBytes = memoryBudgetBytes
        self.maxAlertAccounts = maxAlertAccounts
        self.rules = rules
    }

    /// The settings of `rule`, `rules.<name>` (its defaults until set), e.g.
    /// `configuration[TemplateSwarmRule.self].windowSeconds = 7200`.
    public subscript<Rule: ConfiguredRule>(_ rule: Rule.Type) -> Rule.Configuration {
        get { rules[Rule.Configuration.self] }
        set { rules[Rule.Configuration.self] = newValue }
    }
}
