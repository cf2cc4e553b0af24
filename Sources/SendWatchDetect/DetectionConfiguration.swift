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
    /// Memory for the detection tables (young accounts, templates, pairs, recipients), in bytes; shared out as
    /// documented on ``DetectionEngine``. Default 512 MiB, which leaves room on a 2 GB box.
    public var memoryBudgetBytes: Int
    /// Most accounts listed in one alert record (`accounts_total` gives the full number). Default 1000.
    public var maxAlertAccounts: Int
    public var burst: YoungAccountBurstRule
    public var swarm: TemplateSwarmRule
    public var slots: SlotContentRule
    public var fanIn: RecipientFanInRule
    public var accountRate: AccountRateRule

    public init(
        ages: AccountAges.Configuration = .init(), lifecycle: AlertLifecycle.Configuration = .init(),
        miner: TemplateMiner.Configuration = .init(), allowedLatenessSeconds: Int64 = 300,
        memoryBudgetBytes: Int = 512 << 20, maxAlertAccounts: Int = 1000, burst: YoungAccountBurstRule = .init(),
        swarm: TemplateSwarmRule = .init(), slots: SlotContentRule = .init(), fanIn: RecipientFanInRule = .init(),
        accountRate: AccountRateRule = .init()
    ) {
        self.ages = ages
        self.lifecycle = lifecycle
        self.miner = miner
        self.allowedLatenessSeconds = allowedLatenessSeconds
        self.memoryBudgetBytes = memoryBudgetBytes
        self.maxAlertAccounts = maxAlertAccounts
        self.burst = burst
        self.swarm = swarm
        self.slots = slots
        self.fanIn = fanIn
        self.accountRate = accountRate
    }
}

/// `young_account_burst`: one young account sends to many recipients in a short time.
public struct YoungAccountBurstRule: Sendable, Equatable {
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

/// `template_swarm`: many distinct young accounts use the same template within a window, well above that
/// template's normal rate of young accounts.
///
/// Only young accounts whose recipients are spread over at least two recipient domains, or sit in one domain
/// that established senders also mail (a webmail provider), count: a new tenant inviting colleagues on its own
/// domain, which no established account writes to, does not.
public struct TemplateSwarmRule: Sendable, Equatable {
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

/// `slot_content`: a template's slot values from young accounts carry what a name field should not.
public struct SlotContentRule: Sendable, Equatable {
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

/// `recipient_fanin`: one recipient, or one recipient domain, receives from many distinct young accounts.
public struct RecipientFanInRule: Sendable, Equatable {
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
    public init() {}
}

/// `account_rate`: the naive per-account rate limit that the other rules are compared with (off by default).
/// Any account, old or young, with more than ``limit`` recipients in the window.
public struct AccountRateRule: Sendable, Equatable {
    public var enabled = false
    /// The window. Default 1 hour.
    public var windowSeconds: Int64 = 3600
    /// Recipients per window above which it fires. Default 100.
    public var limit = 100
    public init() {}
}
