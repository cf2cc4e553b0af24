import SendWatchCore
import SendWatchWindows

/// `concentrated_strangers`: a group of young accounts, most of whose recipients are strangers: addresses nobody
/// on the platform mailed before, at a public provider, concentrated at one of them.
///
/// The slot text of such a wave is innocent (a brand name) and no recipient is hit twice, so neither
/// `slot_content` nor `recipient_fanin` sees it, and a few dozen accounts an hour stay below the swarm baseline
/// of a busy template. What gives it away is who the recipients are. Per young account the rule counts, over
/// the account's distinct recipients:
/// - strangers: first contacts (addresses that no established account mailed, the engine's filter of
///   established recipients, and no young account mailed before, the rule's own filter) at a public domain,
///   one established senders mail at least 20 times in 12–24 h (a provider);
/// - colleagues: recipients at the account's own domain (its sender's) or at a private domain that established
///   senders also mail (fewer than 20 times: a customer company's domain). A domain only young accounts write
///   to is no colleague's: an attacker registers one in a minute;
/// - concentration: the share of its public-domain recipients at its most mailed public domain.
///
/// An account with at least `min_recipients` strangers that make at least `min_stranger_share` of its
/// recipients, colleagues at most `max_colleague_share` of them, and at least `min_provider_share` of its
/// public-domain recipients at one provider is a stranger-mailer. The tests are shares, not "no colleague at
/// all": a mail or two to a domain of the attacker's own changes none of them much. One such account is a new
/// user inviting friends and says nothing; the rule fires when `min_accounts_per_template` of them use one
/// template within the window, or `min_accounts` across all templates. A launch day stays quiet because most
/// of its accounts' recipients are at their own company's domain (a welcome to the founder, invitations to
/// the team), and its few webmail invitees are spread over providers.
///
/// Decoys (addresses the platform already mails, new people at established companies) lower those shares, so an
/// account is also judged as a provider-wave member: at least `min_recipients` strangers at one provider, making
/// at least `min_wave_provider_share` of its strangers and at least `min_stranger_share` of them together with
/// its recipients at its own or never-mailed domains (known addresses and people at established companies count
/// neither way). `min_wave_accounts` members on one template with their strangers at the same provider within
/// the window fire, or a member and `min_early_wave_accounts` early members within `early_window`: an early member
/// has `min_early_wave_strangers` strangers at the provider and passes the same tests (a member is one too), so a
/// wave's next accounts count at their second stranger, as the template's early path counts them; only members
/// are listed, save that `min_early_wave_only_accounts` early members whose every first contact is a stranger fire
/// without a member and are listed (a wave that stops at two strangers an account; see
/// ``noteStrangersOnly(key:name:domain:template:_:_:into:at:)``). The group per provider is what a launch
/// day does not fill: its tenants that invited three webmail friends at one provider are spread over the
/// providers their friends use. A firing wave has no alert of its own: its members join its template's group,
/// whose one alert lists them beside the stranger-mailers (without counting them toward the template's own
/// thresholds), so one campaign on a template is one alert however many providers it aims at.
///
/// A wave that gathers at no provider (each account's strangers over several, or each account at another) or
/// stops at two strangers an account is seen as a spread wave of its template: young accounts whose every first
/// contact is a stranger at any provider, `min_spread_accounts` of them making `min_spread_share` of the
/// template's young accounts in the window (see ``noteSpread(_:_:_:into:at:)``).
///
/// Waiting for six accounts costs time (a wave of a dozen accounts an hour needs half an hour or more), so a
/// template's group also fires early on cross-account evidence: when `min_early_accounts` young accounts on
/// the template passed the same share tests with at least `min_early_strangers` strangers each (an early
/// stranger-mailer) within `early_window`, and one of them is a stranger-mailer; or when
/// `min_early_strangers_only_accounts` early stranger-mailers whose every first contact so far is a stranger
/// (counted in a group of their own beside the template's) did within `early_window`, with a stranger-mailer in the
/// window. Only stranger-mailers are listed: an early one is a new user who invited two friends at one provider,
/// which a launch day's tenant sometimes is too (but it welcomes its founder at its own domain first, so it is never
/// strangers-only).
///
/// Base rate: each group keeps the accounts that joined it in each of its last 7 completed hours
/// (``ArrivalHistory``, learned whether it fires or not), and each path's fixed threshold becomes the larger of
/// itself and `base_factor` times the group's base rate (the `base_quantile` of those hours, once `base_min_hours`
/// have completed) times the window's hours: a steady trickle of new users inviting friends at their provider
/// fills the fixed thresholds all day, a wave above it still fires.
///
/// Memory: its tables of accounts and groups take 5 % of the detection memory budget (at most 200,000 accounts
/// and 10,000 groups; three quarters for the accounts); at a bound the entry updated least recently is evicted
/// and starts over. The filter of young accounts' recipients is fixed: two generations of
/// `remembered_recipients` addresses, 12 bits each (2 × 2 MiB at the default), and so is the engine's filter of
/// established recipients. A false positive of either (about 2 % with both generations full) makes a
/// stranger look known: it lowers an account's first-contact share, so it can only quiet the rule. Outside the
/// budget, derived and not saved, it keeps the sorted account lists of the last ``ListedAccountsCache/maxLists``
/// groups it built a finding for (``ListedAccounts``: about 90 bytes per listed account, at most 105; at most twice
/// `detect.max_alert_accounts` accounts a list), so that an alert that stays open while accounts join its waves
/// does not sort its accounts again for each of them.
public struct ConcentratedStrangersRule: ConfiguredRule, Sendable {
    /// The settings of `rules.concentrated_strangers`.
    public struct Configuration: RuleConfiguration, Equatable {
        public var enabled = true
        /// The window in which stranger-mailing accounts are counted. Default 2 hours.
        public var windowSeconds: Int64 = 2 * 3600
        /// Strangers (first contacts at a public domain) an account has mailed before it is judged. Default 3.
        public var minRecipients = 3
        /// Least share of an account's distinct recipients that are strangers. Default 0.6: an account with
        /// three strangers and two decoys of its own is still one; a launch day's tenant, most of whose
        /// recipients are its own team, is not.
        public var minStrangerShare = 0.6
        /// Largest share of an account's distinct recipients at colleagues' domains. Default 0.25.
        public var maxColleagueShare = 0.25
        /// Least share of an account's recipients at public domains that are at its most mailed one. Default 0.75.
        public var minProviderShare = 0.75
        /// Stranger-mailing accounts on one template in the window that fire. Default 6.
        public var minAccountsPerTemplate = 6
        /// Stranger-mailing accounts on all templates together in the window that fire. Default 12.
        public var minAccounts = 12
        /// Strangers that make an account an early stranger-mailer (the share tests as for a stranger-mailer).
        /// Default 2.
        public var minEarlyStrangers = 2
        /// Early stranger-mailers on one template within ``earlyWindowSeconds`` that, with one stranger-mailer
        /// among them, fire. Default 3.
        public var minEarlyAccounts = 3
        /// Early stranger-mailers on one template whose every first contact so far is a stranger (none at a
        /// colleague's, their own or a never-mailed domain; addresses the platform already mails count neither way;
        /// stranger-mailers among them) within ``earlyWindowSeconds`` that, with a stranger-mailer in the window,
        /// fire: counted in a group of their own beside the template's early window (``earlyStrangersOnlySalt``).
        /// Default 2: a wave's second account is seen at its second stranger; a launch day's tenant welcomes its
        /// founder at its own domain first and never counts. Two new users who each invite webmail friends and
        /// nobody else within half an hour do. 0 turns it off.
        public var minEarlyStrangersOnlyAccounts = 2
        /// Whether an account's first recipient, when its next one is on another template, is taken for its
        /// owner (``Opening``: a platform's welcome or verification to the address that signed up): counted as a
        /// recipient, never as a first contact or a stranger. Default true; false counts it as any other recipient
        /// (as SendWatch did before the `Opening`).
        public var discountOwner = true
        /// The window in which early stranger-mailers (and provider-wave members for ``minEarlyWaveAccounts``) are
        /// counted. Default 30 minutes.
        public var earlyWindowSeconds: Int64 = 30 * 60
        /// Least share of an account's strangers at its most mailed provider that makes it a member of a provider
        /// wave (with at least ``minRecipients`` strangers there, making at least ``minStrangerShare`` of them
        /// and of its recipients at its own or never-mailed domains). Default 0.55.
        public var minWaveProviderShare = 0.55
        /// Provider-wave members on one template, each with its strangers at the same provider, in the window that
        /// fire. Default 6, as ``minAccountsPerTemplate``: a member is weaker evidence than a stranger-mailer (its
        /// decoys count neither way), the group is narrower (one provider).
        public var minWaveAccounts = 6
        /// Early provider-wave members (``minEarlyWaveStrangers`` strangers at the provider; members among them) on
        /// one template and provider within ``earlyWindowSeconds`` that, with a member among them, fire. Default 3,
        /// as ``minEarlyAccounts``: a wave aims at one provider, so its accounts arrive there within minutes of each
        /// other, while a launch day's few members are spread over the providers their friends use and over its
        /// hours.
        public var minEarlyWaveAccounts = 3
        /// Early provider-wave members on one template and provider whose every first contact is a stranger (no
        /// recipient at their own, a colleague's or a never-mailed domain) within ``earlyWindowSeconds`` that fire
        /// without a member among them, and are then listed. Default 4, the accounts the wave's early path asks
        /// (a member and three early members): a wave whose accounts stop at two strangers each has no member; a
        /// launch day's tenant welcomes its founder at its own domain first and never counts.
        public var minEarlyWaveOnlyAccounts = 4
        /// Addresses each generation of the recipient filters holds. Default 1,000,000.
        public var rememberedRecipients = 1_000_000
        /// Strangers at one provider that make an account an early member of its provider wave (the wave's share
        /// tests as for a member). Early members count toward ``minEarlyWaveAccounts`` in ``earlyWindowSeconds``
        /// (the wave fires with a member among them) but are not listed. Default 2, as ``minEarlyStrangers``;
        /// ``minRecipients`` (3) counts members only.
        public var minEarlyWaveStrangers = 2
        /// Strangers that make an account whose every first contact is a stranger (no recipient at its own, a
        /// colleague's or a never-mailed domain, strangers at least ``minStrangerShare`` of its recipients) a
        /// member of its template's spread wave, over all providers together. Default 2.
        public var minSpreadStrangers = 2
        /// Spread-wave members on one template in the window that, making ``minSpreadShare`` of the template's
        /// young accounts there, fire. Default 8.
        public var minSpreadAccounts = 8
        /// Least share of the young accounts that used the template in the window that its spread-wave members
        /// must make. Default 0.3: a launch day's new tenants, a few of them founders on webmail whose every
        /// recipient is a stranger, make a small share of the template's young accounts.
        public var minSpreadShare = 0.3
        /// Times a group's base rate that its count must also reach to fire (each window path: a template's
        /// stranger-mailers in the window and early window, a provider wave's members and early members, a
        /// strangers-only wave's early members, a spread wave's members; the group of all templates too). The base
        /// rate is ``baseQuantile`` of the accounts that joined the group in each of its last 7 completed hours
        /// (``ArrivalHistory``), times the window's hours. Default 2; 0 turns it off (the fixed thresholds only).
        public var baseFactor = 2.0
        /// The quantile of a group's hourly arrivals that is its base rate. Default 0.25: a wave of a few hours does
        /// not move it, a steady trickle of new users does.
        public var baseQuantile = 0.25
        /// Completed hours (since the stream's start; at most 7) a group's base rate needs before it counts.
        /// Default 3.
        public var baseMinHours = 3
        public init() {}
    }

    /// One young account's recipients so far.
    struct Account: ApproximateHeapSize, Sendable, Codable {
        /// Distinct recipients (a repeat among the last ``recent`` is not counted again).
        var recipients: UInt32 = 0
        var firstContacts: UInt32 = 0
        /// First contacts at a public domain.
        var strangers: UInt32 = 0
        var colleagues: UInt32 = 0
        /// Recipients at the account's own domain or at a domain no established sender mails (a new tenant's
        /// own, freshly registered domain): what a launch day's tenant mails most.
        var ownOrNew: UInt32 = 0
        /// The public domains of its strangers (hashes), at most ``maxStrangerDomains``, and its strangers at each;
        /// when full, a new domain replaces the one with the fewest strangers.
        var strangerDomains: [UInt64] = []
        var strangerCounts: [UInt32] = []
        /// The account's last distinct recipients (hashes), at most ``maxRecent``: a retry or a repeat is not a
        /// new recipient.
        var recent: [UInt64] = []
        /// Whether the account has been judged a stranger-mailer (it stays one while its entry lives).
        var flagged = false
        /// The provider of the account's strangers once it has been judged a member of a provider wave.
        var waveProvider: UInt64?
        /// The account's first recipient, held until its second (``Opening``); nil once counted or dropped.
        var opening: Opening?
        var approximateHeapBytes: Int { recent.count * 8 + strangerDomains.count * 12 }
    }

    /// What an account's first recipient adds to its counts, held until the account's next recipient shows whom it
    /// was: the account's **owner** when the next one is on another template (a platform's first mail to a new
    /// account is its welcome or verification to the address that signed up, then the account's own mails
    /// follow on other templates), counted then as a recipient but never as a first contact or stranger; else
    /// counted in full. A webmail founder's welcome is no stranger of the tenant's: with it, a founder at a provider
    /// and two friends invited there made three. An attacker whose accounts open with a stranger on another
    /// template loses that stranger, as with a decoy.
    struct Opening: Sendable, Codable {
        /// The first event's template (the rule's hash of its id, 0 without one).
        var template: UInt64
        /// The recipient's domain (hash) when it was a stranger, else nil.
        var strangerDomain: UInt64?
        var firstContact: Bool
        var colleague: Bool
        var ownOrNew: Bool
    }

    /// Stranger-mailing accounts of one template, or of all (``platformKey``).
    struct Group: ApproximateHeapSize, Sendable, Codable {
        var young: SlidingDistinct
        /// Early stranger-mailers (stranger-mailers among them) of a template's group in the early window; nil
        /// for the group of all templates, and until a template's group sees its first.
        var early: SlidingDistinct?
        var first: EventTime
        /// Recipient domains of the group's messages with their counts, at most ``maxDomains``.
        var domains: [String] = []
        var domainCounts: [Int] = []
        var sampleMessageIDs: [String] = []
        /// Accounts that entered ``young`` so far (a new one, or one back after a full window): never
        /// decreases, so a wave whose windowed count stays flat while its accounts change still grows (the
        /// alert's volume, which makes the updates that list the new accounts).
        var arrivals = 0
        /// The members of the template's provider waves that fired (a template's group only; nil until one does).
        var waves: WaveMembers?
        var approximateHeapBytes: Int {
            young.approximateHeapBytes + (early?.approximateHeapBytes ?? 0)
                + domains.reduce(0) { $0 + 24 + $1.utf8.count } + sampleMessageIDs.count * 48
                + (waves?.approximateHeapBytes ?? 0)
        }
    }

    /// The members of a template's provider waves that fired in the window, which its alert lists beside its
    /// stranger-mailers (they do not count toward the template's own thresholds), and the providers' figures.
    struct WaveMembers: Sendable, Codable {
        var members: SlidingDistinct
        /// Accounts that entered ``members`` so far (never decreases: the alert's volume, with the group's).
        var arrivals = 0
        /// The waves' providers, first fired first, at most ``maxDomains`` of each kind (``entries(in:like:)``;
        /// ``maxWaveProviders`` in all; the members of waves at more providers are listed, their providers not), with
        /// each wave's members and early members when it last fired.
        var providers: [String] = []
        var accounts: [Int] = []
        var earlyAccounts: [Int] = []
        var approximateHeapBytes: Int {
            members.approximateHeapBytes + providers.reduce(0) { $0 + 24 + $1.utf8.count } + accounts.count * 16
        }
        var isValid: Bool {
            providers.count == accounts.count && providers.count == earlyAccounts.count
                && providers.count <= maxWaveProviders && arrivals >= 0
        }
    }

    /// What the rule saves: both tables and its recipient filter.
    struct Checkpoint: Codable, Sendable {
        var accounts: BoundedKeyTable<Account>
        var groups: BoundedKeyTable<Group>
        var youngRecipients: SeenFilter
    }

    /// The rule's name.
    public static let name = RuleName("concentrated_strangers")
    static let maxRecent = 8
    static let maxDomains = 8
    /// The most entries a template's `provider_waves` holds: ``maxDomains`` of provider waves (the spread wave's
    /// among them) and ``maxDomains`` of strangers-only waves, so that a rule with `min_early_wave_only_accounts`
    /// off lists exactly what it listed before strangers-only waves existed, and one with it on drops no provider
    /// wave for them.
    static let maxWaveProviders = 2 * maxDomains

    /// The entries of `providers` of the same kind as `provider` (strangers-only waves, or the others).
    static func entries(in providers: [String], like provider: String) -> Int {
        let strangersOnly = provider.hasSuffix(strangersOnlySuffix)
        return providers.reduce(0) { $0 + ($1.hasSuffix(strangersOnlySuffix) == strangersOnly ? 1 : 0) }
    }
    static let maxStrangerDomains = 4
    /// The group of all templates.
    static let platformKey: UInt64 = 0x5354_5241_4e47_4552
    static let platformName = "all templates"
    /// Mixed into a template's key for the group of its young accounts (``youngSalt``) and of its spread wave.
    static let youngSalt: UInt64 = 0x594F_554E_4741_4343
    static let spreadSalt: UInt64 = 0x5350_5245_4144_5741
    /// Mixed into a provider wave's key for the group of its early members whose every first contact is a
    /// stranger.
    static let strangersOnlySalt: UInt64 = 0x5354_524F_4E4C_5957
    /// Mixed into a template's key for the group of its early stranger-mailers whose every first contact is a
    /// stranger (``Configuration/minEarlyStrangersOnlyAccounts``): only its early window is used.
    static let earlyStrangersOnlySalt: UInt64 = 0x4541_524C_5953_4F4E
    /// Mixed into a group's key for the entry that keeps its ``ArrivalHistory`` (its base rate).
    static let baseSalt: UInt64 = 0x4241_5345_5241_5445
    /// What follows the domain of a strangers-only wave in the alert's `provider_waves` (and what tells its entry
    /// from the provider wave's at that domain: a domain has no space).
    static let strangersOnlySuffix = " (strangers only)"
    /// The provider a spread wave is listed under in `provider_waves`.
    static let spreadProvider = "all providers"
    let configuration: Configuration
    var accounts: RuleTable<Account>
    var groups: RuleTable<Group>
    var youngRecipients: SeenFilter
    let capacity: Int
    /// The sorted account lists of the groups whose findings were built last (derived, not saved): a finding
    /// rebuilt because one account joined a wave inserts that account's name instead of sorting them all.
    var listedAccounts = ListedAccountsCache()
    /// The last template id whose groups' key was asked for, and that key (derived, not saved): an event's
    /// template is hashed once, not once for each of the groups it touches.
    var lastTemplate: (id: String, key: UInt64)?
}

extension ConcentratedStrangersRule: TwoTableRule {
    static let summary = "many young accounts each mail only strangers at one consumer provider"
    static let windowDoc = "The window in which stranger-mailing accounts are counted."
    static let keys: [ConfigKey<Configuration>] = [
        .integer(
            "min_recipients", \.minRecipients, in: 1...1_000_000,
            doc: "Strangers (first contacts at a public domain) an account has mailed before it is judged."),
        .number(
            "min_stranger_share", \.minStrangerShare, in: 0...1,
            doc: "Least share of its recipients that are strangers: nobody on the platform mailed them before,",
            "and they sit at a public domain (a provider)."),
        .number(
            "max_colleague_share", \.maxColleagueShare, in: 0...1,
            doc: "Largest share of its recipients at colleagues' domains: its own, or a private one that",
            "established senders also mail (a domain only young accounts write to is no colleague's)."),
        .number(
            "min_provider_share", \.minProviderShare, in: 0...1,
            doc: "Least share of its recipients at public domains that are at its most mailed one."),
        .integer(
            "min_accounts_per_template", \.minAccountsPerTemplate, in: 1...10_000_000,
            doc: "Stranger-mailing accounts on one template in the window that fire."),
        .integer(
            "min_accounts", \.minAccounts, in: 1...10_000_000,
            doc: "Stranger-mailing accounts on all templates together in the window that fire."),
        .integer(
            "min_early_strangers", \.minEarlyStrangers, in: 1...1_000_000,
            doc: "Strangers that make an account an early stranger-mailer (with the same share tests)."),
        .integer(
            "min_early_accounts", \.minEarlyAccounts, in: 1...10_000_000,
            doc: "Early stranger-mailers on one template within early_window that fire when one of them is a",
            "stranger-mailer (only stranger-mailers are listed)."),
        .integer(
            "min_early_strangers_only_accounts", \.minEarlyStrangersOnlyAccounts, in: 0...10_000_000,
            doc: "Early stranger-mailers on one template whose every first contact so far is a stranger (none at a",
            "colleague's, their own or a never-mailed domain) within early_window that fire when a stranger-mailer",
            "used the template in the window, which need not be one of them (only stranger-mailers are listed).",
            "0 turns it off."),
        .bool(
            "discount_owner", \.discountOwner,
            doc: "Whether an account's first recipient, when its next one is on another template (a platform's",
            "welcome or verification to the address that signed up), is its owner: counted as a recipient, never",
            "as a first contact or a stranger. false counts it as any other recipient."),
        .number(
            "min_wave_provider_share", \.minWaveProviderShare, in: 0...1,
            doc: "Least share of an account's strangers at its most mailed provider that makes it a member of a",
            "provider wave: min_recipients strangers there, making min_stranger_share of them and of its",
            "recipients at its own or never-mailed domains (addresses the platform mails and people at",
            "established companies count neither way)."),
        .integer(
            "min_wave_accounts", \.minWaveAccounts, in: 1...10_000_000,
            doc: "Provider-wave members on one template, with their strangers at the same provider, in the window",
            "that fire."),
        .integer(
            "min_early_wave_accounts", \.minEarlyWaveAccounts, in: 1...10_000_000,
            doc: "Provider-wave members on one template, with their strangers at the same provider, within",
            "early_window that fire."),
        .integer(
            "min_early_wave_only_accounts", \.minEarlyWaveOnlyAccounts, in: 1...10_000_000,
            doc: "Early provider-wave members on one template, with their strangers at the same provider and every",
            "first contact a stranger, within early_window that fire without a member among them (and are",
            "listed)."),
        .duration(
            "early_window", \.earlyWindowSeconds,
            doc: "The window in which early stranger-mailers, and provider-wave members for",
            "min_early_wave_accounts, are counted."),
        .integer(
            "remembered_recipients", \.rememberedRecipients, in: 1...(1 << 28),
            doc: "Addresses each of the two generations of the recipient filters holds (established and",
            "young senders' recipients; 12 bits each rounded up to a power of two: 2 × 2 MiB per filter at",
            "1,000,000)."),
        .integer(
            "min_early_wave_strangers", \.minEarlyWaveStrangers, in: 1...1_000_000,
            doc: "Strangers at one provider that make an account an early member of its provider wave (with the",
            "same share tests): early members count toward min_early_wave_accounts within early_window, which",
            "fire with a member among them; only members are listed (min_recipients counts members only)."),
        .integer(
            "min_spread_strangers", \.minSpreadStrangers, in: 1...1_000_000,
            doc: "Strangers that make an account whose every first contact is a stranger (at least",
            "min_stranger_share of its recipients; none at its own, a colleague's or a never-mailed domain) a",
            "member of its template's spread wave, over all providers together (judged when it joins; it stays a",
            "member for the window)."),
        .integer(
            "min_spread_accounts", \.minSpreadAccounts, in: 1...10_000_000,
            doc: "Spread-wave members on one template in the window that, making min_spread_share of the",
            "template's young accounts there, fire."),
        .number(
            "min_spread_share", \.minSpreadShare, in: 0...1,
            doc: "Least share of the template's young accounts in the window that its spread-wave members make."),
        .number(
            "base_factor", \.baseFactor, in: 0...1000,
            doc: "Times a group's base rate that its count must also reach to fire, on every path above (a",
            "template's stranger-mailers, a provider, strangers-only or spread wave): the base rate is base_quantile",
            "of the accounts that joined the group in each of its last 7 completed hours, learned whether it",
            "fires or not, times the window's hours. 0 turns it off."),
        .number(
            "base_quantile", \.baseQuantile, in: 0...1,
            doc: "The quantile of a group's hourly arrivals that is its base rate (a wave of a few hours does not",
            "move a low quantile)."),
        .integer(
            "base_min_hours", \.baseMinHours, in: 1...ArrivalHistory.maxHours,
            doc: "Completed hours since the stream's start a group's base rate needs before it counts."),
    ]
    static var budgetShare: BudgetShare? { BudgetShare(1, of: 20) }

    static func contribute(_ configuration: Configuration, to features: inout FeatureSettings) {
        features.rememberedRecipients = configuration.rememberedRecipients
        if configuration.enabled { features.remembersEstablishedRecipients = true }
    }

    init(configuration: Configuration, limits: RuleLimits) {
        self.configuration = configuration
        accounts = RuleTable(maxEntries: 200_000, maxBytes: limits.maxBytes / 4 * 3)
        groups = RuleTable(maxEntries: 10_000, maxBytes: limits.maxBytes / 4)
        youngRecipients = SeenFilter(capacity: configuration.rememberedRecipients)
        capacity = limits.perKeyCapacity
    }

    init(configuration: Configuration, limits: RuleLimits, restoring saved: Checkpoint)
        throws(DetectionCheckpointError)
    {
        self.init(configuration: configuration, limits: limits)
        accounts = RuleTable(
            try saved.accounts.fitting(like: accounts.entries, "stranger accounts") {
                $0.recent.count <= Self.maxRecent && $0.strangerDomains.count == $0.strangerCounts.count
                    && $0.strangerDomains.count <= Self.maxStrangerDomains
            })
        let window = SlidingDistinct.Configuration(windowSeconds: configuration.windowSeconds, exactCapacity: capacity)
        let capacity = capacity
        groups = RuleTable(
            try saved.groups.fitting(like: groups.entries, "stranger groups") {
                $0.young.configuration == window
                    && ($0.early.map { $0.configuration == Self.earlyWindow(configuration, capacity: capacity) }
                        ?? true)
                    && $0.domains.count == $0.domainCounts.count
                    && $0.domains.count <= Self.maxDomains && $0.arrivals >= 0
                    && ($0.waves.map { $0.members.configuration == window && $0.isValid } ?? true)
            })
        guard saved.youngRecipients.capacity == youngRecipients.capacity else {
            throw DetectionCheckpointError(
                "\(Self.name): recipient filter of \(saved.youngRecipients.capacity) items, the configuration "
                    + "makes \(youngRecipients.capacity)")
        }
        youngRecipients = saved.youngRecipients
    }

    func checkpoint() -> Checkpoint {
        Checkpoint(accounts: accounts.entries, groups: groups.entries, youngRecipients: youngRecipients)
    }

    /// The tables' bytes are what the budget bounds; the recipient filter is fixed memory outside the budget
    /// (like the engine's sketch of established domains).
    func withTables<Result>(_ body: (RuleTable<Account>, RuleTable<Group>) -> Result) -> Result {
        body(accounts, groups)
    }

    mutating func updateTables(_ body: (inout RuleTable<Account>, inout RuleTable<Group>) -> Void) {
        body(&accounts, &groups)
    }

    /// Counts the event's recipient for its account and, when the account is (or becomes) a stranger-mailer,
    /// for the groups of its template and of all templates.
    ///
    /// - Complexity: O(1) per event (two filter probes, a few table lookups); O(listed accounts) when a finding
    ///   is built.
    mutating func observe(
        _ event: SendEvent, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert]
    ) {
        guard let youngSlot = facts.young else { return }
        let rule = configuration
        let now = event.time
        let recipient = facts.recipientKey
        let slot = accounts.entries.slot(for: facts.accountKey, at: now, name: event.account) { Account() }
        accounts.report(to: &context)
        guard !accounts.entries[slot].recent.contains(recipient) else { return }
        if accounts.entries[slot].recent.count >= Self.maxRecent { accounts.entries[slot].recent.removeFirst() }
        accounts.entries[slot].recent.append(recipient)
        // Both filters are asked (and the young one fed) before anything else, so that every young recipient
        // is remembered whatever this account turns out to be.
        let known = context.establishedRecipients?.contains(recipient) ?? false
        let seenYoung = youngRecipients.insert(recipient)
        let establishedMails = context.establishedDomains.estimate(facts.domainKey, at: now)
        let publicDomain = establishedMails >= DetectionEngine.publicDomainMinEvents
        let ownDomain = DetectionEngine.domainHash(event.sender) == facts.domainKey
        let firstContact = !known && !seenYoung
        // A private domain only young accounts write to (one established senders never mailed) is no
        // colleague's: an attacker can register one and mail it.
        let recipientCounts = Opening(
            template: facts.template.map { templateKey($0.template.id) } ?? 0,
            strangerDomain: firstContact && publicDomain ? facts.domainKey : nil, firstContact: firstContact,
            colleague: ownDomain || (!publicDomain && establishedMails > 0),
            ownOrNew: ownDomain || establishedMails == 0)
        if rule.discountOwner && accounts.entries[slot].recent.count == 1 && accounts.entries[slot].recipients == 0
            && accounts.entries[slot].opening == nil
        {
            // The account's first recipient: held until the next shows whether it was the owner. One recipient
            // makes no stranger-mailer, early or not, so nothing below can fire without it.
            accounts.entries[slot].opening = recipientCounts
        } else {
            if let opening = accounts.entries[slot].opening {
                accounts.entries[slot].opening = nil
                Self.count(opening, owner: opening.template != recipientCounts.template, in: &accounts.entries[slot])
            }
            Self.count(recipientCounts, owner: false, in: &accounts.entries[slot])
        }
        // A provider wave's members are counted whatever the share tests below say: a wave whose decoys make only
        // some of its accounts stranger-mailers is one wave.
        noteWave(slot, event, facts, &context, into: &alerts, at: now)
        noteSpread(accounts.entries[slot], facts, &context, into: &alerts, at: now)
        let account = accounts.entries[slot]
        if !account.flagged {
            let early = min(rule.minEarlyStrangers, rule.minRecipients)
            guard Int(account.strangers) >= early,
                isStrangerMailer(account, context.tables.young[youngSlot], context, at: now, minStrangers: early)
            else { return }
            // The share tests do not depend on the number of strangers: enough of them make a stranger-mailer.
            guard Int(account.strangers) >= rule.minRecipients else {
                if let use = facts.template {
                    noteEarlyStrangersOnly(
                        templateKey(use.template.id), name: use.template.id, account, facts, &context, at: now)
                    noteEarly(
                        key: templateKey(use.template.id), name: use.template.id, template: use.template, wave: false,
                        facts, &context, into: &alerts, at: now)
                }
                return
            }
            accounts.entries[slot].flagged = true
        }
        let domain = String(event.recipient.addressDomain).lowercased()
        let messageID = event.messageID ?? event.queueID
        if let use = facts.template {
            noteEarlyStrangersOnly(
                templateKey(use.template.id), name: use.template.id, accounts.entries[slot], facts, &context, at: now)
            record(
                key: templateKey(use.template.id), name: use.template.id, minimum: rule.minAccountsPerTemplate,
                template: use.template, domain: domain, messageID: messageID, early: true, wave: false, facts, &context,
                into: &alerts, at: now)
        }
        record(
            key: Self.platformKey, name: Self.platformName, minimum: rule.minAccounts, template: nil, domain: domain,
            messageID: messageID, early: false, wave: false, facts, &context, into: &alerts, at: now)
    }

    /// Whether `account` mails mostly strangers: at least `minStrangers` strangers, making enough of its recipients, few
    /// colleagues, and its public-domain recipients mostly at one provider (read from the young account's
    /// shared domain counts; recipients beyond its four tracked domains count as public, at other providers).
    ///
    /// - Complexity: O(1): at most four sketch estimates.
    func isStrangerMailer(
        _ account: Account, _ young: YoungAccountState, _ context: DetectionContext, at now: EventTime,
        minStrangers: Int
    ) -> Bool {
        let rule = configuration
        let recipients = Double(account.recipients)
        guard Int(account.strangers) >= minStrangers,
            Double(account.strangers) >= rule.minStrangerShare * recipients,
            Double(account.colleagues) <= rule.maxColleagueShare * recipients
        else { return false }
        let d = young.domains
        var top: UInt32 = 0
        var atPublic = UInt64(d.other)
        for (key, count) in [
            (d.keys.0, d.counts.0), (d.keys.1, d.counts.1), (d.keys.2, d.counts.2), (d.keys.3, d.counts.3),
        ]
        where count > 0 && context.establishedDomains.estimate(key, at: now) >= DetectionEngine.publicDomainMinEvents {
            top = max(top, count)
            atPublic += UInt64(count)
        }
        return top > 0 && Double(top) >= rule.minProviderShare * Double(atPublic)
    }

    /// Adds one recipient's counts to `account`; an `owner` (``Opening``) is a recipient, never a first contact or
    /// a stranger.
    static func count(_ r: Opening, owner: Bool, in account: inout Account) {
        account.recipients &+= 1
        if r.firstContact && !owner { account.firstContacts &+= 1 }
        if let domain = r.strangerDomain, !owner {
            account.strangers &+= 1
            countStranger(at: domain, in: &account)
        }
        if r.colleague { account.colleagues &+= 1 }
        if r.ownOrNew { account.ownOrNew &+= 1 }
    }

    /// Counts a stranger at the public domain `domain` in the account's stranger domains (a full list replaces
    /// its domain with the fewest strangers, so the provider it mails most stays).
    static func countStranger(at domain: UInt64, in account: inout Account) {
        if let i = account.strangerDomains.firstIndex(of: domain) {
            account.strangerCounts[i] &+= 1
        } else if account.strangerDomains.count < maxStrangerDomains {
            account.strangerDomains.append(domain)
            account.strangerCounts.append(1)
        } else if let i = account.strangerCounts.indices.min(by: {
            account.strangerCounts[$0] < account.strangerCounts[$1]
        }) {
            account.strangerDomains[i] = domain
            account.strangerCounts[i] = 1
        }
    }

    /// The provider of a provider-wave member: the public domain with at least `minStrangers` of the account's
    /// strangers (`min_recipients` for a member, `min_early_wave_strangers` for an early one), making at least
    /// `min_wave_provider_share` of its strangers and at least `min_stranger_share` of them and its recipients at
    /// its own or never-mailed domains; nil when the account is no member.
    ///
    /// Addresses the platform already mails and people at established companies count neither way: they are
    /// what an attacker adds as decoys to lower its shares, and what sets a launch day apart (its tenants mail
    /// their own new domain most) is still counted.
    ///
    /// - Complexity: O(``maxStrangerDomains``).
    func waveProvider(_ account: Account, minStrangers: Int) -> UInt64? {
        let rule = configuration
        guard
            let i = account.strangerCounts.indices.max(by: { account.strangerCounts[$0] < account.strangerCounts[$1] })
        else { return nil }
        let top = Double(account.strangerCounts[i])
        guard Int(account.strangerCounts[i]) >= minStrangers,
            top >= rule.minWaveProviderShare * Double(account.strangers),
            top >= rule.minStrangerShare * (top + Double(account.ownOrNew))
        else { return nil }
        return account.strangerDomains[i]
    }

    /// Once the account is a provider-wave member (judged at each new recipient, and it stays one), its events at
    /// its provider are counted in the group of its template and provider, which fires at `min_wave_accounts`
    /// members in the window. Before that, an early member's events at its provider (`min_early_wave_strangers`
    /// there, the same share tests, judged at each event) are counted in the group's early window only, toward
    /// `min_early_wave_accounts`: the wave's second account is seen at its second stranger, not its third.
    private mutating func noteWave(
        _ slot: BoundedKeyTable<Account>.Slot, _ event: SendEvent, _ facts: EventFacts,
        _ context: inout DetectionContext, into alerts: inout [Alert], at now: EventTime
    ) {
        guard let use = facts.template else { return }
        let rule = configuration
        if accounts.entries[slot].waveProvider == nil {
            accounts.entries[slot].waveProvider = waveProvider(accounts.entries[slot], minStrangers: rule.minRecipients)
        }
        let key = templateKey(use.template.id) ^ (facts.domainKey &* 0x9E37_79B9_7F4A_7C15)
        // Made only for a group that is new or an event that is counted.
        func domain() -> String { String(event.recipient.addressDomain).lowercased() }
        func name() -> String { "\(use.template.id) at \(domain())" }
        let account = accounts.entries[slot]
        if Self.mailsOnlyStrangers(account),
            (account.waveProvider ?? waveProvider(account, minStrangers: rule.minEarlyWaveStrangers)) == facts.domainKey
        {
            noteStrangersOnly(
                key: key ^ Self.strangersOnlySalt, name: "\(name()) strangers only", domain: domain(),
                template: use.template, facts, &context, into: &alerts, at: now)
        }
        guard accounts.entries[slot].waveProvider == facts.domainKey else {
            guard accounts.entries[slot].waveProvider == nil, rule.minEarlyWaveStrangers < rule.minRecipients,
                waveProvider(accounts.entries[slot], minStrangers: rule.minEarlyWaveStrangers) == facts.domainKey
            else { return }
            noteEarly(
                key: key, name: name(), template: use.template, wave: true, facts, &context, into: &alerts, at: now)
            return
        }
        record(
            key: key, name: name(), minimum: rule.minWaveAccounts, template: use.template, domain: domain(),
            messageID: event.messageID ?? event.queueID, early: true, wave: true, facts, &context, into: &alerts,
            at: now)
    }

    /// An early provider-wave member whose every first contact is a stranger, at its provider: counted in the early
    /// window of its wave's strangers-only group, which fires at ``Configuration/minEarlyWaveOnlyAccounts`` of
    /// them with no member needed; they then join the template's group as a provider wave's members do (at
    /// `domain`). A wave that stops at two strangers an account has no member; a launch day's tenant welcomes its
    /// founder at its own domain first and never counts here.
    ///
    /// - Complexity: O(1) per event (a group lookup and a window insert); as
    ///   ``fireWave(_:count:earlyCount:account:member:template:_:into:at:)`` when an account joins a firing
    ///   group.
    private mutating func noteStrangersOnly(
        key: UInt64, name: @autoclosure () -> String, domain: @autoclosure () -> String, template: AlertTemplate,
        _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert], at now: EventTime
    ) {
        let rule = configuration
        let slot = groupSlot(key: key, name: name(), &context, at: now)
        let joined = Self.countStrangersOnly(
            facts.accountKey, provider: "\(domain())\(Self.strangersOnlySuffix)", early: earlyWindow,
            in: &groups.entries[slot], at: now)
        // Reported when an account joins, as a spread wave is: an account's later events add nothing.
        guard joined else { return }
        defer { noteArrival(key, name: name(), &context, at: now) }
        guard let early = groups.entries[slot].early else { return }
        let count = Int(early.value(at: now).value)
        guard count >= rule.minEarlyWaveOnlyAccounts,
            count >= bar(key, rule.minEarlyWaveOnlyAccounts, rule.earlyWindowSeconds, context, at: now)
        else { return }
        // Listed: the group's early window (it has no other).
        var wave = groups.entries[slot]
        wave.young = early
        fireWave(
            wave, count: count, earlyCount: count, account: facts.accountKey, member: true, template: template,
            &context, into: &alerts, at: now)
    }

    /// Whether every first contact of `account` so far is a stranger: no recipient at a colleague's, its own or a
    /// never-mailed domain (addresses the platform already mails count neither way, as elsewhere in this rule).
    static func mailsOnlyStrangers(_ account: Account) -> Bool {
        account.colleagues == 0 && account.ownOrNew == 0
    }

    /// An early stranger-mailer's (or a stranger-mailer's) event on the template `templateKey` whose every first
    /// contact so far is a stranger (``mailsOnlyStrangers(_:)``): counted in the early window of the template's
    /// strangers-only early group (``earlyStrangersOnlySalt``), which the template's group reads when it is judged
    /// (``earlyStrangersOnly(_:_:at:)``). Nothing while ``Configuration/minEarlyStrangersOnlyAccounts`` is 0.
    ///
    /// - Complexity: O(1): a group lookup and an early-window insert (and the group's base entry when the account
    ///   joins).
    private mutating func noteEarlyStrangersOnly(
        _ templateKey: UInt64, name: @autoclosure () -> String, _ account: Account, _ facts: EventFacts,
        _ context: inout DetectionContext, at now: EventTime
    ) {
        guard configuration.minEarlyStrangersOnlyAccounts > 0, Self.mailsOnlyStrangers(account) else { return }
        let key = templateKey ^ Self.earlyStrangersOnlySalt
        let slot = groupSlot(key: key, name: "\(name()) early strangers only", &context, at: now)
        guard Self.insertEarly(facts.accountKey, window: earlyWindow, in: &groups.entries[slot], at: now) else {
            return
        }
        noteArrival(key, name: "\(name()) early strangers only", &context, at: now)
    }

    /// The template group `templateKey`'s early stranger-mailers whose every first contact is a stranger in the early
    /// window, and the bar they must reach (``Configuration/minEarlyStrangersOnlyAccounts``, or more where their
    /// group's base rate, `base`, raised it); nil while the path is off or the group has none.
    ///
    /// - Complexity: O(1): a group lookup, and the base entry's when the count reaches the fixed threshold.
    private func earlyStrangersOnly(
        _ templateKey: UInt64, _ context: DetectionContext, at now: EventTime
    ) -> (count: Int, bar: Int, base: Double?)? {
        let rule = configuration
        guard rule.minEarlyStrangersOnlyAccounts > 0,
            let slot = groups.entries.find(templateKey ^ Self.earlyStrangersOnlySalt),
            let early = groups.entries[slot].early
        else { return nil }
        let count = Int(early.value(at: now).value)
        // The fixed threshold first: most events of a template below it need no look-up of the base rate.
        guard count >= rule.minEarlyStrangersOnlyAccounts else {
            return (count, rule.minEarlyStrangersOnlyAccounts, nil)
        }
        let base = baseRate(templateKey ^ Self.earlyStrangersOnlySalt, context, at: now)
        return (count, bar(rule.minEarlyStrangersOnlyAccounts, rule.earlyWindowSeconds, base: base), base)
    }

    /// Counts the account among its template's young accounts in the window and, when every first contact of it
    /// is a stranger (``minSpreadStrangers`` at least, at any providers), in the template's spread wave, which
    /// fires at ``minSpreadAccounts`` members making ``minSpreadShare`` of the template's young accounts: its
    /// members join the template's group as a provider wave's do (at ``spreadProvider``).
    ///
    /// A wave that avoids one provider (each account's strangers over several, or each account at another) or
    /// stops at two strangers an account passes no provider wave; what it cannot avoid is that all its accounts'
    /// recipients are strangers, and that it is a large share of the template's new accounts. A launch day's
    /// tenants welcome a founder at their own domain first (never all strangers) unless the founder uses webmail,
    /// and those are a small share of the day's new tenants.
    ///
    /// - Complexity: O(1) per event (two group lookups and window inserts); as
    ///   ``fireWave(_:count:earlyCount:account:member:template:_:into:at:)`` when it fires.
    private mutating func noteSpread(
        _ account: Account, _ facts: EventFacts, _ context: inout DetectionContext, into alerts: inout [Alert],
        at now: EventTime
    ) {
        guard let use = facts.template else { return }
        let rule = configuration
        let templateKey = self.templateKey(use.template.id)
        let youngSlot = groupSlot(
            key: templateKey ^ Self.youngSalt, name: "\(use.template.id) young", &context, at: now)
        _ = groups.entries[youngSlot].young.insert(facts.accountKey, at: now)
        guard Int(account.strangers) >= rule.minSpreadStrangers, Self.mailsOnlyStrangers(account),
            Double(account.strangers) >= rule.minStrangerShare * Double(account.recipients)
        else { return }
        let slot = groupSlot(
            key: templateKey ^ Self.spreadSalt, name: "\(use.template.id) at \(Self.spreadProvider)", &context,
            at: now)
        let joined = Self.count(
            facts.accountKey, domain: nil, messageID: nil, early: earlyWindow, in: &groups.entries[slot], at: now)
        Self.countSpread(in: &groups.entries[slot])
        let count = Int(groups.entries[slot].young.value(at: now).value)
        // Found again: the young group's slot may have moved when the spread group was made.
        // Not found (evicted by the spread group's own insert): no share to test against, so no wave.
        // A wave is reported when a member joins it: a member's later events add nothing to it, and reporting on
        // each of them rebuilt the template's whole list (on the adversarial-cardinality log, 300,000 lines, 13.9
        // billion instructions against 5.3 without the spread wave).
        guard joined else { return }
        defer {
            noteArrival(
                templateKey ^ Self.spreadSalt, name: "\(use.template.id) at \(Self.spreadProvider)", &context, at: now)
        }
        guard let youngGroup = groups.entries.find(templateKey ^ Self.youngSalt) else { return }
        let young = Int(groups.entries[youngGroup].young.value(at: now).value)
        guard count >= rule.minSpreadAccounts,
            count >= bar(templateKey ^ Self.spreadSalt, rule.minSpreadAccounts, rule.windowSeconds, context, at: now),
            Double(count) >= rule.minSpreadShare * Double(young)
        else { return }
        // Listed: the members of the early window only. A member that mailed its strangers while the wave was a
        // small share of the template's young accounts (a launch day's founder on webmail) and has gone quiet
        // since is not named when a later wave fires.
        var wave = groups.entries[slot]
        if let recent = wave.early { wave.young = recent }
        fireWave(
            wave, count: count, earlyCount: Int(wave.young.value(at: now).value), account: facts.accountKey,
            member: true, template: use.template, &context, into: &alerts, at: now)
    }

    /// The hour of `now` since the stream's start (the first event), which a group's ``ArrivalHistory`` counts in.
    private func hour(_ context: DetectionContext, at now: EventTime) -> Int {
        guard let start = context.ages.streamStart else { return 0 }
        return Int(max(0, (now.microseconds - start.microseconds) / 3_600_000_000))
    }

    /// Counts an account that joined the group `key`'s window (or early window) in the group's ``ArrivalHistory``,
    /// its base entry made when new (``baseSalt``). Made after the group is judged: a new entry may move the
    /// table's slots.
    private mutating func noteArrival(
        _ key: UInt64, name: @autoclosure () -> String, _ context: inout DetectionContext, at now: EventTime
    ) {
        guard configuration.baseFactor > 0 else { return }
        let hour = hour(context, at: now)
        let slot = groupSlot(key: key ^ Self.baseSalt, name: "\(name()) base", &context, at: now)
        var history = ArrivalHistory(groups.entries[slot]) ?? ArrivalHistory(at: hour)
        history.add(at: hour)
        history.write(to: &groups.entries[slot])
    }

    /// The count a window of `seconds` of the group `key` must reach: `minimum`, or ``Configuration/baseFactor``
    /// times the accounts its base rate (``ArrivalHistory``) expects in such a window when that is more.
    private func bar(
        _ key: UInt64, _ minimum: Int, _ seconds: Int64, _ context: DetectionContext, at now: EventTime
    ) -> Int {
        bar(minimum, seconds, base: baseRate(key, context, at: now))
    }

    /// The base rate (accounts an hour, ``ArrivalHistory``) of the group `key`; nil while it has none or
    /// ``Configuration/baseFactor`` is 0.
    private func baseRate(_ key: UInt64, _ context: DetectionContext, at now: EventTime) -> Double? {
        let rule = configuration
        guard rule.baseFactor > 0, let entry = groups.entries.find(key ^ Self.baseSalt),
            let history = ArrivalHistory(groups.entries[entry])
        else { return nil }
        return history.base(at: hour(context, at: now), quantile: rule.baseQuantile, minHours: rule.baseMinHours)
    }

    /// The count a window of `seconds` must reach: `minimum`, or ``Configuration/baseFactor`` times the accounts
    /// `base` (accounts an hour) expects in such a window when that is more.
    private func bar(_ minimum: Int, _ seconds: Int64, base: Double?) -> Int {
        guard let base else { return minimum }
        let expected = base * Double(seconds) / 3600
        // Clamped: a saturated (or damaged, restored) hourly count must not trap in the conversion.
        let raised = min((configuration.baseFactor * expected).rounded(.up), Double(Int32.max))
        return max(minimum, Int(raised))
    }

    /// A threshold as a reason states it: `minimum`, or `bar` with what raised it when the base rate did and
    /// `base` (nil where the base decided nothing) is given.
    private func barText(_ bar: Int, _ minimum: Int, _ base: Double?) -> String {
        guard bar > minimum, let base else { return "\(minimum)" }
        return "\(bar): \(reasonNumber(configuration.baseFactor)) × the group's base rate of \(reasonNumber(base)) "
            + "accounts an hour, above the fixed \(minimum)"
    }

    /// The window of early stranger-mailers of a template's group.
    static func earlyWindow(_ configuration: Configuration, capacity: Int) -> SlidingDistinct.Configuration {
        .init(windowSeconds: configuration.earlyWindowSeconds, exactCapacity: capacity)
    }

    /// The key of the groups of the template `id` (its ``StableHash``), hashed once for an event's several groups
    /// and for consecutive events of one template.
    private mutating func templateKey(_ id: String) -> UInt64 {
        if let last = lastTemplate, last.id == id { return last.key }
        let key = StableHash.of(id)
        lastTemplate = (id, key)
        return key
    }

    /// The slot of the group `key`, made empty when it is new (its name is made only then: a young account's every
    /// event looks up its template's group).
    private mutating func groupSlot(
        key: UInt64, name: @autoclosure () -> String, _ context: inout DetectionContext, at now: EventTime
    ) -> BoundedKeyTable<Group>.Slot {
        let window = SlidingDistinct.Configuration(windowSeconds: configuration.windowSeconds, exactCapacity: capacity)
        let slot = groups.entries.slot(for: key, at: now, name: name()) {
            Group(young: SlidingDistinct(configuration: window), first: now)
        }
        groups.report(to: &context)
        return slot
    }

    /// The configuration of a template group's early window.
    private var earlyWindow: SlidingDistinct.Configuration { Self.earlyWindow(configuration, capacity: capacity) }

    /// Counts a stranger-mailer's (or wave member's) event in `group`: its window and arrivals, its early window
    /// when `early` is given (made at the group's first early stranger-mailer), the recipient `domain` when given
    /// (kept among the first ``maxDomains``) and a sample message ID; returns whether the account joined the
    /// window.
    ///
    /// One write of the group's table entry: the table accounts the entry's bytes once per write, and writing
    /// each field on its own made that accounting (which reads every domain) a large share of the rule's cost.
    /// Exactly the state and byte figure of writing the fields one by one.
    @discardableResult
    private static func count(
        _ account: UInt64, domain: String?, messageID: String?, early: SlidingDistinct.Configuration?,
        in group: inout Group, at now: EventTime
    ) -> Bool {
        let joined = group.young.insert(account, at: now)
        if joined { group.arrivals += 1 }
        if let early { insertEarly(account, window: early, in: &group, at: now) }
        if let domain {
            if let i = group.domains.firstIndex(of: domain) {
                group.domainCounts[i] += 1
            } else if group.domains.count < Self.maxDomains {
                group.domains.append(domain)
                group.domainCounts.append(1)
            }
        }
        if group.sampleMessageIDs.count < 5, let m = messageID, !group.sampleMessageIDs.contains(m) {
            group.sampleMessageIDs.append(m)
        }
        return joined
    }

    /// Counts a strangers-only account's event in its group's early window (made at its first event) and names
    /// the group's one provider, `provider` (its domain and ``strangersOnlySuffix``), which labels its wave in the
    /// alert's `provider_waves`; returns whether the account joined the early window. One write of the group's
    /// table entry, as ``count(_:domain:messageID:early:in:at:)``.
    private static func countStrangersOnly(
        _ account: UInt64, provider: @autoclosure () -> String, early: SlidingDistinct.Configuration,
        in group: inout Group, at now: EventTime
    ) -> Bool {
        let joined = insertEarly(account, window: early, in: &group, at: now)
        // The one domain keeps the parallel count the checkpoint's consistency test asks for; nothing reads it.
        if group.domains.isEmpty {
            group.domains = [provider()]
            group.domainCounts = [0]
        }
        return joined
    }

    /// Counts a spread-wave member's event in its group's one domain, ``spreadProvider``.
    private static func countSpread(in group: inout Group) {
        if group.domains.isEmpty {
            group.domains = [Self.spreadProvider]
            group.domainCounts = [0]
        }
        group.domainCounts[0] += 1
    }

    /// Counts `account` in the group's early window, made with `window` at the group's first early account;
    /// returns whether the account joined it.
    @discardableResult
    private static func insertEarly(
        _ account: UInt64, window: SlidingDistinct.Configuration, in group: inout Group, at now: EventTime
    ) -> Bool {
        if group.early == nil { group.early = SlidingDistinct(configuration: window) }
        return group.early?.insert(account, at: now) ?? false
    }

    /// An early stranger-mailer's event on a template, or (`wave`) an early provider-wave member's that is no member
    /// at its provider: counted in the early window of the group `key`, which may make the group fire early. An
    /// early wave member is counted, never listed.
    private mutating func noteEarly(
        key: UInt64, name: @autoclosure () -> String, template: AlertTemplate, wave: Bool, _ facts: EventFacts,
        _ context: inout DetectionContext, into alerts: inout [Alert], at now: EventTime
    ) {
        let slot = groupSlot(key: key, name: name(), &context, at: now)
        Self.insertEarly(facts.accountKey, window: earlyWindow, in: &groups.entries[slot], at: now)
        evaluate(
            slot, name: name(), minimum: wave ? configuration.minWaveAccounts : configuration.minAccountsPerTemplate,
            template: template, wave: wave, account: facts.accountKey, member: !wave, &context, into: &alerts, at: now)
    }

    /// A stranger-mailer's (or, with `wave`, a provider-wave member's) event: counted in the group `key` and, with
    /// `early`, in its early window.
    private mutating func record(
        key: UInt64, name: @autoclosure () -> String, minimum: Int, template: AlertTemplate?, domain: String,
        messageID: String?,
        early: Bool, wave: Bool, _ facts: EventFacts, _ context: inout DetectionContext,
        into alerts: inout [Alert], at now: EventTime
    ) {
        let slot = groupSlot(key: key, name: name(), &context, at: now)
        let joined = Self.count(
            facts.accountKey, domain: domain, messageID: messageID, early: early ? earlyWindow : nil,
            in: &groups.entries[slot], at: now)
        evaluate(
            slot, name: name(), minimum: minimum, template: template, wave: wave, account: facts.accountKey,
            member: true, &context, into: &alerts, at: now)
        if joined { noteArrival(key, name: name(), &context, at: now) }
    }

    /// Judges the group at `slot` after the event of `account`. A template's group, or the group of all
    /// templates, reports itself when it has `minimum` stranger-mailers in the window, or (a template's group) a
    /// stranger-mailer and `min_early_accounts` early stranger-mailers in the early window. A provider wave's
    /// group (`wave`) fires at `minimum` members in the window, or a member and `min_early_wave_accounts` early
    /// members (members among them) in the early window, but has no alert of its own: its members join its
    /// template's group (``fireWave(_:count:earlyCount:account:member:template:_:into:at:)``), whose one alert
    /// lists them, so that a campaign on one template is one alert however many providers its accounts aim at.
    /// `member` is false for the event of an early member that is no member: it is counted, never listed.
    private mutating func evaluate(
        _ slot: BoundedKeyTable<Group>.Slot, name: @autoclosure () -> String, minimum: Int, template: AlertTemplate?,
        wave: Bool,
        account: UInt64, member: Bool, _ context: inout DetectionContext, into alerts: inout [Alert],
        at now: EventTime
    ) {
        let rule = configuration
        let state = groups.entries[slot]
        let count = Int(state.young.value(at: now).value)
        let earlyCount = state.early.map { Int($0.value(at: now).value) } ?? 0
        let earlyThreshold = wave ? rule.minEarlyWaveAccounts : rule.minEarlyAccounts
        // The fixed thresholds first: a bar is never below them, and most events of a group below them need no
        // look-up of its base rate.
        guard
            (count >= minimum
                && count >= bar(groups.entries.key(slot), minimum, rule.windowSeconds, context, at: now))
                || (template != nil && count >= 1 && earlyCount >= earlyThreshold
                    && earlyCount
                        >= bar(groups.entries.key(slot), earlyThreshold, rule.earlyWindowSeconds, context, at: now))
                || (template != nil && !wave && count >= 1
                    && earlyStrangersOnly(groups.entries.key(slot), context, at: now).map { $0.count >= $0.bar }
                        == true)
        else { return }
        guard wave, let template else {
            report(
                slot, name: name(), minimum: minimum, template: template, waveFired: false, &context, into: &alerts,
                at: now)
            return
        }
        fireWave(
            state, count: count, earlyCount: earlyCount, account: account, member: member, template: template,
            &context, into: &alerts, at: now)
    }

    /// Adds the members of a firing provider wave (`wave`, a copy of its group) to its template's group: `account`,
    /// whose event it is (when it is a `member`), and, when that account is new there (the wave just fired, or
    /// the account just joined it) or is an early member only, every member the wave holds; notes the provider's
    /// figures for the alert's evidence; then reports the template's group
    /// (``report(_:name:minimum:template:waveFired:_:into:at:)``).
    ///
    /// - Complexity: O(capacity) per event of a firing wave (one insert); when the account is new to the template's
    ///   wave members or an early member only, also the wave's sample (O(capacity × log capacity) at most) and one
    ///   bulk insert of it, O(capacity).
    private mutating func fireWave(
        _ wave: Group, count: Int, earlyCount: Int, account: UInt64, member: Bool, template: AlertTemplate,
        _ context: inout DetectionContext, into alerts: inout [Alert], at now: EventTime
    ) {
        let slot = groupSlot(key: templateKey(template.id), name: template.id, &context, at: now)
        var waves =
            groups.entries[slot].waves
            ?? WaveMembers(members: SlidingDistinct(configuration: groups.entries[slot].young.configuration))
        // Taken out while it changes, so that its storage is not copied.
        groups.entries[slot].waves = nil
        let isNew = member && waves.members.insert(account, at: now)
        if isNew { waves.arrivals += 1 }
        if isNew || !member || !waves.members.isExact {
            // One bulk insert (linear), the same state and arrivals as inserting them one by one (quadratic).
            var members = wave.young.sampleItems(limit: capacity, at: now)
            members.removeAll { $0 == account }
            waves.arrivals += waves.members.insert(contentsOf: members, at: now)
        }
        let provider = wave.domains.first ?? ""
        if let i = waves.providers.firstIndex(of: provider) {
            waves.accounts[i] = count
            waves.earlyAccounts[i] = earlyCount
        } else if Self.entries(in: waves.providers, like: provider) < Self.maxDomains {
            waves.providers.append(provider)
            waves.accounts.append(count)
            waves.earlyAccounts.append(earlyCount)
        }
        groups.entries[slot].waves = waves
        for m in wave.sampleMessageIDs
        where groups.entries[slot].sampleMessageIDs.count < 5 && !groups.entries[slot].sampleMessageIDs.contains(m) {
            groups.entries[slot].sampleMessageIDs.append(m)
        }
        report(
            slot, name: template.id, minimum: configuration.minAccountsPerTemplate, template: template,
            waveFired: true, &context, into: &alerts, at: now)
    }

    /// Makes the finding of the group at `slot` when its stranger-mailers fire it (`minimum` in the window, or
    /// early, as ``evaluate(_:name:minimum:template:wave:account:member:_:into:at:)`` says), or when one of its
    /// template's provider waves just fired (`waveFired`). It lists the stranger-mailers when they fire it, and
    /// the members of the template's provider waves in the window.
    ///
    /// - Complexity: that of ``ListedAccounts/update(to:young:ages:touched:)`` (integer work per listed account,
    ///   name comparisons only for the accounts that joined), plus a lookup per listed account when a finding is
    ///   built; the update on every call for a template whose provider waves fired (the listed accounts are the
    ///   count).
    private mutating func report(
        _ slot: BoundedKeyTable<Group>.Slot, name: String, minimum: Int, template: AlertTemplate?, waveFired: Bool,
        _ context: inout DetectionContext, into alerts: inout [Alert], at now: EventTime
    ) {
        let rule = configuration
        let state = groups.entries[slot]
        let distinct = state.young.value(at: now)
        let count = Int(distinct.value)
        let earlyCount = state.early.map { Int($0.value(at: now).value) } ?? 0
        let base = baseRate(groups.entries.key(slot), context, at: now)
        let windowBar = bar(minimum, rule.windowSeconds, base: base)
        let earlyBar = bar(rule.minEarlyAccounts, rule.earlyWindowSeconds, base: base)
        let early = template != nil && count >= 1 && earlyCount >= earlyBar
        // The template's early stranger-mailers whose every first contact is a stranger, in their own group.
        let onlyPath =
            template != nil && count >= 1 ? earlyStrangersOnly(groups.entries.key(slot), context, at: now) : nil
        let earlyOnly = onlyPath.map { $0.count >= $0.bar } ?? false
        let own = count >= windowBar || early || earlyOnly
        let waveDistinct = state.waves?.members.value(at: now)
        let waveCount = Int(waveDistinct?.value ?? 0)
        guard own || (waveFired && waveCount > 0) else { return }
        // Without wave members the figures come from the window alone and the names only for a record; with them
        // the accounts are the union of both lists, which needs the names. The group's list is kept between
        // findings (``ListedAccounts``): a wave that one account joined inserts its name, not a sort of them all.
        let key = groups.entries.key(slot)
        let limit = context.maxAlertAccounts
        var union: ListedAccounts?
        var total = count
        if waveCount > 0, let waves = state.waves {
            var hashes = waves.members.sampleItems(limit: limit, at: now)
            if own { hashes += state.young.sampleItems(limit: limit, at: now) }
            let listed = listedAccounts.update(
                key, to: hashes, young: context.tables.young, ages: context.ages, touched: context.touchedYoung)
            union = listed
            total = max(listed.count, waveCount, own ? count : 0)
        }
        let severity: Severity = total >= 3 * minimum ? .high : .medium
        let volume = state.arrivals + (state.waves?.arrivals ?? 0)
        guard
            context.wants(
                Self.name, key: name, severity: severity, accountsTotal: total, volume: volume, at: now,
                refreshVolume: true)
        else { return }
        let listed =
            union
            ?? listedAccounts.update(
                key, to: state.young.sampleItems(limit: limit, at: now), young: context.tables.young,
                ages: context.ages, touched: context.touchedYoung)
        // The listed accounts' own figures, against the per-account thresholds.
        var recipients = 0
        var firstContacts = 0
        var strangers = 0
        var colleagues = 0
        for account in listed.keys {
            guard let s = accounts.entries.find(account) else { continue }
            recipients += Int(accounts.entries[s].recipients)
            firstContacts += Int(accounts.entries[s].firstContacts)
            strangers += Int(accounts.entries[s].strangers)
            colleagues += Int(accounts.entries[s].colleagues)
        }
        let order = state.domains.indices.sorted {
            state.domainCounts[$0] != state.domainCounts[$1]
                ? state.domainCounts[$0] > state.domainCounts[$1] : state.domains[$0] < state.domains[$1]
        }
        let window = DurationText.format(rule.windowSeconds)
        let earlyWindow = DurationText.format(rule.earlyWindowSeconds)
        var waveEvidence: [(String, JSONValue)] = []
        var waveScore = 0.0
        // Whether a strangers-only wave fired on the template (its provider entry ends in the suffix).
        let strangersOnly = state.waves?.providers.contains { $0.hasSuffix(Self.strangersOnlySuffix) } ?? false
        if waveCount > 0, let waves = state.waves {
            waveEvidence = [
                ("wave_accounts", .int(waveCount)), ("wave_threshold", .int(rule.minWaveAccounts)),
                ("early_wave_threshold", .int(rule.minEarlyWaveAccounts)),
            ]
            if strangersOnly {
                waveEvidence.append(("early_wave_only_threshold", .int(rule.minEarlyWaveOnlyAccounts)))
            }
            waveEvidence += [
                (
                    "provider_waves",
                    .array(
                        waves.providers.indices.map {
                            .object([
                                ("provider", .string(waves.providers[$0])), ("accounts", .int(waves.accounts[$0])),
                                ("early_accounts", .int(waves.earlyAccounts[$0])),
                            ])
                        })
                )
            ]
            for i in waves.providers.indices {
                // A strangers-only wave has its early window only, and its own threshold.
                guard !waves.providers[i].hasSuffix(Self.strangersOnlySuffix) else {
                    waveScore = max(
                        waveScore, Double(waves.earlyAccounts[i]) / Double(rule.minEarlyWaveOnlyAccounts))
                    continue
                }
                waveScore = max(
                    waveScore, Double(waves.accounts[i]) / Double(rule.minWaveAccounts),
                    Double(waves.earlyAccounts[i]) / Double(rule.minEarlyWaveAccounts))
            }
        }
        // A bar the group's base rate raised, where the base decided: the count reached the fixed threshold, so the
        // raised bar is what it was measured against (whether it reached it or not). A record whose counts the base
        // decided nothing for is as without it.
        let windowBase = windowBar > minimum && count >= minimum
        let earlyBase =
            earlyBar > rule.minEarlyAccounts && template != nil && count >= 1 && earlyCount >= rule.minEarlyAccounts
        var baseEvidence: [(String, JSONValue)] = []
        if let base, windowBase || earlyBase {
            baseEvidence.append(("base_rate", .double(base)))
            if windowBase { baseEvidence.append(("base_threshold", .int(windowBar))) }
            if earlyBase { baseEvidence.append(("early_base_threshold", .int(earlyBar))) }
        }
        // The strangers-only early path's figures where its count reached its fixed threshold (so whether it reached
        // a bar its base rate raised or not), as the base rate's are shown.
        if let only = onlyPath, only.count >= rule.minEarlyStrangersOnlyAccounts {
            baseEvidence += [
                ("early_strangers_only_accounts", .int(only.count)),
                ("early_strangers_only_threshold", .int(rule.minEarlyStrangersOnlyAccounts)),
            ]
            if let base = only.base, only.bar > rule.minEarlyStrangersOnlyAccounts {
                baseEvidence += [
                    ("early_strangers_only_base_rate", .double(base)),
                    ("early_strangers_only_base_threshold", .int(only.bar)),
                ]
            }
        }
        let evidence: [(String, JSONValue)] =
            [("group", .string(name))]
            + DetectionContext.youngAccountsEvidence(
                distinct, windowSeconds: rule.windowSeconds, threshold: .int(minimum))
            + [
                ("early_accounts", .int(earlyCount)),
                ("early_window", .string(earlyWindow)),
                ("early_threshold", .int(rule.minEarlyAccounts)),
            ] + baseEvidence + waveEvidence + [
                ("recipients", .int(recipients)), ("first_contacts", .int(firstContacts)),
                ("strangers", .int(strangers)), ("colleagues", .int(colleagues)),
                (
                    "account_thresholds",
                    .object(
                        [
                            ("min_recipients", .int(rule.minRecipients)),
                            ("min_stranger_share", .double(rule.minStrangerShare)),
                            ("max_colleague_share", .double(rule.maxColleagueShare)),
                            ("min_provider_share", .double(rule.minProviderShare)),
                        ] + (waveCount > 0 ? [("min_wave_provider_share", .double(rule.minWaveProviderShare))] : []))
                ),
                (
                    "recipient_domains",
                    .array(
                        order.map {
                            .object([("domain", .string(state.domains[$0])), ("count", .int(state.domainCounts[$0]))])
                        })
                ),
                ("sample_message_ids", .array(state.sampleMessageIDs.map { .string($0) })),
            ] + listed.ageEvidence(at: now)
            + [context.stateEvidence(approximate: !distinct.isExact || waveDistinct?.isExact == false)]
        let top = order.first.map { state.domains[$0] } ?? "one provider"
        var reasons: [String] = []
        if own {
            reasons.append(
                "\(count) young accounts (\(name)) each mailed mostly strangers in \(window) (threshold "
                    + "\(barText(windowBar, minimum, windowBase ? base : nil))): "
                    + "\(strangers) of their \(recipients) recipients were never mailed on the platform before and sit "
                    + "at a provider, \(colleagues) at a colleague's domain, each account's mostly at one provider "
                    + "(most at \(top)).")
            if count < windowBar, early {
                reasons.append(
                    "Fired early: \(earlyCount) young accounts on the template each mailed at least "
                        + "\(min(rule.minEarlyStrangers, rule.minRecipients)) strangers the same way within "
                        + "\(earlyWindow) (threshold \(barText(earlyBar, rule.minEarlyAccounts, earlyBase ? base : nil)))."
                )
            } else if count < windowBar, let only = onlyPath {
                let threshold = barText(only.bar, rule.minEarlyStrangersOnlyAccounts, only.base)
                let strangers = min(rule.minEarlyStrangers, rule.minRecipients)
                reasons.append(
                    "Fired early: \(only.count) young accounts on the template each mailed at least \(strangers) "
                        + "strangers the same way within \(earlyWindow), and every first contact of theirs was a "
                        + "stranger: none at a colleague's, their own or a never-mailed domain (threshold \(threshold))."
                )
            }
        }
        if let waves = state.waves, waveCount > 0 {
            reasons.append(
                "\(waveCount) young accounts on the template (\(name)) in provider waves at "
                    + "\(waves.providers.joined(separator: ", ")): each"
                    + (strangersOnly ? ", but in a strangers-only wave," : "")
                    + " mailed at least \(rule.minRecipients) "
                    + "strangers at one provider, most of their strangers and few of their recipients at their own or "
                    + "never-mailed domains (addresses the platform mails and people at established companies count "
                    + "neither way); a wave is \(rule.minWaveAccounts) such accounts at one provider in \(window), or "
                    + "one of them and \(rule.minEarlyWaveAccounts) with at least \(rule.minEarlyWaveStrangers) "
                    + "strangers there within \(earlyWindow)"
                    + (own
                        ? "."
                        : ": \(strangers) of their \(recipients) recipients were never mailed on the platform before "
                            + "and sit at a provider."))
            if strangersOnly {
                reasons.append(
                    "A strangers-only wave at a provider is \(rule.minEarlyWaveOnlyAccounts) young accounts on the "
                        + "template within \(earlyWindow) that each mailed at least \(rule.minEarlyWaveStrangers) "
                        + "strangers at the provider and at least \(rule.minWaveProviderShare) of their strangers "
                        + "there, and whose every first contact was a stranger (none at a colleague's, their own or a "
                        + "never-mailed domain).")
            }
            if waves.providers.contains(Self.spreadProvider) {
                reasons.append(
                    "A wave at \(Self.spreadProvider) is \(rule.minSpreadAccounts) young accounts on the template in "
                        + "\(window) whose every first contact was a stranger (at least \(rule.minSpreadStrangers) "
                        + "each, at any provider), making at least \(rule.minSpreadShare) of the template's young "
                        + "accounts there.")
            }
        }
        let ownScore =
            own
            ? max(
                Double(count) / Double(minimum), early ? Double(earlyCount) / Double(rule.minEarlyAccounts) : 0,
                earlyOnly ? Double(onlyPath?.count ?? 0) / Double(rule.minEarlyStrangersOnlyAccounts) : 0)
            : 0
        let finding = Finding(
            kind: Self.name, key: name, severity: severity, score: max(ownScore, waveScore),
            firstEventTime: state.first, accounts: [], accountsTotal: max(total, listed.count), volume: volume,
            template: template, evidence: evidence, reasons: reasons)
        context.take(finding, listing: listed, limit: limit, at: now, into: &alerts)
    }
}

extension ConcentratedStrangersRule.Account {
    enum CodingKeys: String, CodingKey {
        case recipients, firstContacts, strangers, colleagues, ownOrNew, strangerDomains, strangerCounts, recent
        case flagged, waveProvider, opening
    }

    /// Decodes an account; its held first recipient (``opening``) only from a state whose layout has one
    /// (``DetectionStateLayout``; an older state's account holds none).
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        recipients = try c.decode(UInt32.self, forKey: .recipients)
        firstContacts = try c.decode(UInt32.self, forKey: .firstContacts)
        strangers = try c.decode(UInt32.self, forKey: .strangers)
        colleagues = try c.decode(UInt32.self, forKey: .colleagues)
        ownOrNew = try c.decode(UInt32.self, forKey: .ownOrNew)
        strangerDomains = try c.decode([UInt64].self, forKey: .strangerDomains)
        strangerCounts = try c.decode([UInt32].self, forKey: .strangerCounts)
        recent = try c.decode([UInt64].self, forKey: .recent)
        flagged = try c.decode(Bool.self, forKey: .flagged)
        waveProvider = try c.decodeIfPresent(UInt64.self, forKey: .waveProvider)
        opening =
            DetectionStateLayout.of(decoder) == .withoutOpenings
            ? nil : try c.decodeIfPresent(ConcentratedStrangersRule.Opening.self, forKey: .opening)
    }

    /// Encodes the account; told ``DetectionStateLayout/withoutOpenings``, as a version before openings saved it:
    /// a held first recipient counted in full, no opening.
    func encode(to encoder: any Encoder) throws {
        var account = self
        if DetectionStateLayout.of(encoder) == .withoutOpenings, let held = account.opening {
            account.opening = nil
            ConcentratedStrangersRule.count(held, owner: false, in: &account)
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(account.recipients, forKey: .recipients)
        try c.encode(account.firstContacts, forKey: .firstContacts)
        try c.encode(account.strangers, forKey: .strangers)
        try c.encode(account.colleagues, forKey: .colleagues)
        try c.encode(account.ownOrNew, forKey: .ownOrNew)
        try c.encode(account.strangerDomains, forKey: .strangerDomains)
        try c.encode(account.strangerCounts, forKey: .strangerCounts)
        try c.encode(account.recent, forKey: .recent)
        try c.encode(account.flagged, forKey: .flagged)
        try c.encodeIfPresent(account.waveProvider, forKey: .waveProvider)
        if DetectionStateLayout.of(encoder) != .withoutOpenings {
            try c.encodeIfPresent(account.opening, forKey: .opening)
        }
    }
}
