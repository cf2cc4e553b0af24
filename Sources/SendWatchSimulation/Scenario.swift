import SendWatchCore

/// What a burst of traffic is: an attack (an incident, its accounts are abusive) or a legitimate look-alike
/// (a hard negative that a detector must not flag).
public enum BurstKind: String, Hashable, Sendable, CaseIterable {
    /// Many young tenants of the notification platform, a few messages each, scam text in a template slot.
    case tenantSwarm = "tenant-swarm"
    /// Trial tenants each sending dozens of welcome mails whose tenant-name slot carries a phishing link.
    case trialWelcome = "trial-welcome"
    /// One young SASL account sending hundreds of messages within minutes.
    case youngBurst = "young-burst"
    /// A tenant swarm spread thinly over many hours.
    case lowAndSlow = "low-and-slow"
    /// An old ordinary account's large newsletter (look-alike).
    case newsletter
    /// An established tenant's password-reset storm (look-alike).
    case passwordResetStorm = "password-reset-storm"
    /// New tenants onboarding: a welcome, then invitations to colleagues on their own domain (look-alike).
    case tenantOnboarding = "tenant-onboarding"
    /// New SASL accounts of an existing company domain with a busy first day (look-alike).
    case newEmployees = "new-employees"
    /// A tenant swarm whose scam text is disguised: full-width and look-alike letters, invisible characters in
    /// digit groups, letters for digits, defanged links, spelled-out currencies.
    case hiddenLures = "hidden-lures"
    /// A tenant swarm whose scam text is followed by invisible padding (zero-width spaces, word joiners, Hangul
    /// fillers) or by long non-ASCII text, so that the subject, RFC 2047-encoded, outgrows the 200 bytes of a
    /// header Postfix logs: the log cuts it inside the lure's slot, and the template's constant text after the
    /// slot is never logged.
    case paddedLures = "padded-lures"
    /// The same scam-in-a-slot campaign at a few new tenants an hour for a day, so that no hour looks unusual.
    case rateShapedSwarm = "rate-shaped-swarm"
    /// New tenants onboarding whose names look like lures but are brands (`1-800-Flowers Team`, `Acme.io`,
    /// `24/7 Plumbing Ltd`, `Route 66 Diner`): a welcome, then invitations to their own domain (look-alike).
    case brandNames = "brand-names"
    /// Young tenants with an ordinary brand name, each inviting 3–8 strangers: addresses nobody on the platform
    /// mailed before, all at one large consumer provider, none at a company domain; one recipient per message,
    /// none hit twice, a few accounts an hour on the busy `invite-team` template.
    case concentratedStrangers = "concentrated-strangers"
    /// A product launch: hundreds of genuinely new tenants in a few hours, each a welcome to its founder and
    /// invitations mostly to colleagues on its own domain, some to webmail (look-alike).
    case launchDay = "launch-day"
    /// New tenants that each copy one real shared mailbox (a partner onboarding address) once, which
    /// established people already write to (look-alike).
    case sharedInbox = "shared-inbox"
    /// One campaign rotating over the platform's five templates, each account on one template with the lure in
    /// a different slot of each (tenant name, inviter, recipient name, invoice number), so that no template
    /// sees as many accounts as a per-template threshold; every lure names the same phone number, some the
    /// same domain.
    case templateRotation = "template-rotation"
    /// New tenants onboarding whose names carry a domain many accounts name innocently: the platform's own
    /// help link or a big webmail provider (look-alike).
    case commonArtefacts = "common-artefacts"
    /// Concentrated strangers whose accounts each also mail one or two addresses at a freshly registered domain
    /// of their own (a decoy "colleague" that only young accounts write to), so that a rule demanding no
    /// colleague at all is escaped with one mail per account.
    case decoyStrangers = "decoy-strangers"
    /// A scam-in-a-slot tenant swarm whose accounts each also mail one or two addresses at a freshly registered
    /// domain of their own (the decoy colleague), so that a swarm rule exempting accounts that write to private
    /// domains is escaped with one mail per account.
    case decoySwarm = "decoy-swarm"
    /// Concentrated strangers whose accounts send about 40 % of their mails as decoys, the first mail one and the
    /// rest spread among the invitations, so that at every point the shares are about 40 % decoys: either
    /// to people at established companies' domains (colleagues' domains to a rule) or to addresses established
    /// accounts mail (at providers other than the invitations'), one kind per account.
    case heavyDecoyStrangers = "heavy-decoy-strangers"
    /// A template rotation that gives every account its own phone number and names no host: nothing but the
    /// wording of the lure (the same text, the number aside) ties its accounts together.
    case rotationPerAccountPhone = "rotation-per-account-phone"
    /// A slow tenant swarm whose slot holds nothing but one phone number (written several ways, at most one word
    /// with it: `+1 (866) 555-0197`, `Tel 1-866-555-0197`): no lure words, no money, no host.
    case phoneOnlyLure = "phone-only-lure"
    /// Young tenants with an innocent brand name, each inviting 3–8 strangers that no provider's wave gathers:
    /// half the accounts at one consumer provider each, drawn from all of them, the other half spreading their
    /// strangers over three providers in turn (at most half of an account's strangers at one).
    case spreadStrangers = "spread-strangers"
    /// Young tenants with an innocent brand name, each inviting exactly two strangers at one large consumer
    /// provider and then stopping: below the three strangers an account needs to be listed.
    case twoStrangers = "two-strangers"
    /// Young tenants with an innocent brand name that each first mail one address at their own freshly registered
    /// domain (where a launch day's tenant welcomes its founder) and then invite exactly two strangers at one large
    /// consumer provider: below the three strangers an account needs to be listed, and never an account whose
    /// every first contact is a stranger, so that no path of `concentrated_strangers` counts it except as an early
    /// one (an attacker who read docs/detection.md, "Two strangers an account").
    case decoyTwoStrangers = "decoy-two-strangers"
    /// Launch-day tenants whose founder signed up with a webmail address: a welcome to the founder at a
    /// consumer provider (the tenant's own domain is that provider), then invitations, 7 in 10 at the same
    /// provider and the rest at other webmail: every recipient a stranger (look-alike).
    case webmailFounders = "webmail-founders"
    /// Individuals signing up steadily all run long with a webmail address (the largest provider most, then the
    /// second, the rest at other webmail): a welcome to their own address, then one to three invitations to
    /// friends, 3 in 4 at their own provider and the rest at other webmail, on the invitation template the
    /// stranger waves use; every recipient a first contact (look-alike).
    case organicSignups = "organic-signups"
    /// A launch day (as ``launchDay``) whose webmail invitees gather at the big providers as real ones do: of the
    /// invitees at webmail, 4 in 10 at the largest provider, 2 in 10 at the second, the rest over the other eight,
    /// each drawn on its own, so that about one tenant in 30 invites three or more people at one provider and
    /// looks, alone, like a stranger wave's account (look-alike).
    case launchDayWebmail = "launch-day-webmail"

    /// Whether the burst's accounts are abusive (an incident) rather than a look-alike.
    public var isAttack: Bool {
        switch self {
        case .tenantSwarm, .trialWelcome, .youngBurst, .lowAndSlow, .hiddenLures, .paddedLures, .rateShapedSwarm,
            .concentratedStrangers, .templateRotation, .decoyStrangers, .decoySwarm, .heavyDecoyStrangers,
            .rotationPerAccountPhone, .phoneOnlyLure, .spreadStrangers, .twoStrangers, .decoyTwoStrangers:
            return true
        case .newsletter, .passwordResetStorm, .tenantOnboarding, .newEmployees, .brandNames, .launchDay, .sharedInbox,
            .commonArtefacts, .webmailFounders, .organicSignups, .launchDayWebmail:
            return false
        }
    }

    /// Whether the burst is one of the launch-day look-alikes: new tenants each welcoming a founder and then
    /// inviting a few people, most at the tenant's own domain, the rest at webmail.
    public var isLaunchDay: Bool { self == .launchDay || self == .webmailFounders || self == .launchDayWebmail }
}

/// The shape of one burst: how many accounts, how many messages each, and when.
///
/// Account `i`'s first message is sent at `warmup end + startAfterWarmupSeconds + spread_i` (`run start + …`
/// for a plan that starts at the run's start, ``startsAtRunStart``), with the `spread_i` drawn uniformly in
/// `0..<spreadSeconds`; each following message comes `gap` later, the gap drawn uniformly in
/// `[0.5, 1.5] × gapSeconds`. So the last message of the burst is sent at most
/// ``latestSendAfterWarmupSeconds(warmupSeconds:)`` after the warm-up ends. Messages that would fall after the
/// end of the run are not sent (their accounts are left out of the labels when they sent nothing).
public struct BurstPlan: Hashable, Sendable {
    /// What the burst is.
    public var kind: BurstKind
    /// Accounts taking part. Attacks and look-alikes other than the newsletter and the reset storm create new
    /// (young) accounts; those two use one established account.
    public var accounts: Int
    /// Messages each account sends in the burst, at most ``maxMessagesPerAccount``.
    public var messagesPerAccount: Int
    /// The largest ``messagesPerAccount`` a plan may have.
    public static let maxMessagesPerAccount = 10_000_000
    /// The largest ``accounts`` a plan may have.
    public static let maxAccounts = 1_000_000
    /// Seconds after the warm-up end at which the burst starts.
    public var startAfterWarmupSeconds: Int64
    /// Seconds over which the accounts' first messages are spread.
    public var spreadSeconds: Int64
    /// Mean seconds between two messages of one account.
    public var gapSeconds: Double
    /// Whether ``startAfterWarmupSeconds`` counts from the run's start instead of the warm-up's end, so the burst
    /// begins inside the warm-up. Default false. Only look-alikes may start there: ``SimulationConfiguration``
    /// rejects an attack plan that does, because an evaluation does not score alerts before the warm-up's end.
    /// In Postfix, Exim and JSON lines without creation times, SendWatch counts an account first seen in its
    /// warm-up as established; only JSON lines with creation times show such an account as young.
    public var startsAtRunStart: Bool

    public init(
        kind: BurstKind, accounts: Int, messagesPerAccount: Int, startAfterWarmupSeconds: Int64,
        spreadSeconds: Int64, gapSeconds: Double, startsAtRunStart: Bool = false
    ) {
        self.kind = kind
        self.accounts = accounts
        self.messagesPerAccount = messagesPerAccount
        self.startAfterWarmupSeconds = startAfterWarmupSeconds
        self.spreadSeconds = spreadSeconds
        self.gapSeconds = gapSeconds
        self.startsAtRunStart = startsAtRunStart
    }

    /// The latest send time of the burst, in seconds after the end of a warm-up of `warmupSeconds` (negative when
    /// a plan that starts at the run's start ends inside the warm-up).
    public func latestSendAfterWarmupSeconds(warmupSeconds: Int64) -> Int64 {
        (startsAtRunStart ? -warmupSeconds : 0) + startAfterWarmupSeconds + spreadSeconds
            + Int64((1.5 * gapSeconds * Double(max(0, messagesPerAccount - 1))).rounded(.up))
    }

    /// This plan's size and pacing (accounts, messages, start, spread, gap) for the attack or look-alike `kind`.
    public func paced(as kind: BurstKind) -> BurstPlan {
        var plan = self
        plan.kind = kind
        return plan
    }
}

/// A named traffic scenario: the attacks it contains. Every scenario also has background traffic and the
/// look-alikes (see ``lookAlikes(scale:)``).
///
/// | name | incidents (defaults) | default duration |
/// |---|---|---|
/// | `baseline` | none | 6 h |
/// | `tenant-swarm` | 250 young tenants × 8 messages, starting 20 min after warm-up, spread 40 min, gap 3 min | 6 h |
/// | `trial-welcome` | 58 trial tenants × 29 welcome mails, +30 min, spread 90 min, gap 2 min | 6 h |
/// | `young-burst` | 1 young SASL account × 400 messages, +45 min, gap 1.2 s | 6 h |
/// | `low-and-slow` | 120 young tenants × 6 messages, +30 min, spread 4 h, gap 20 min | 9 h |
/// | `mixed` | all four: swarm +20 min, young burst +2 h, trial welcome +3 h, low-and-slow +30 min | 9 h |
/// | `hidden-lures` | 40 young tenants × 6 messages with disguised scam text, +20 min, spread 2 h, gap 8 min; plus the `brand-names` look-alike | 6 h |
/// | `padded-lures` | 40 young tenants × 6 messages whose scam text is padded with invisible characters or long non-ASCII text past Postfix's 200-byte header cut, +20 min, spread 2 h, gap 8 min; plus the `brand-names` look-alike | 6 h |
/// | `rate-shaped-swarm` | 100 young tenants × 4 messages, +30 min, spread 24 h (about 4 an hour), gap 15 min; plus the `brand-names` look-alike | 28 h |
/// | `concentrated-strangers` | 60 young tenants × 3–8 one-stranger invitations, +30 min, spread 5 h, gap 6 min; plus the `launch-day` and `shared-inbox` look-alikes | 9 h |
/// | `template-rotation` | 25 young tenants × 4 messages rotating over 5 templates, +30 min, one new tenant every 43 min for 18 h (each template one every 3.6 h), gap 15 min; plus the `common-artefacts` look-alike | 22 h |
/// | `decoy-colleague` | `decoy-strangers`: 60 young tenants × 3–8 one-stranger invitations and 1–2 decoy mails to their own fresh domain, +30 min, spread 5 h, gap 6 min; `decoy-swarm`: 150 young tenants × 6 scam-slot messages and 1–2 decoy mails, +60 min, spread 1 h, gap 3 min; plus the `launch-day` and `shared-inbox` look-alikes | 9 h |
/// | `heavy-decoys` | `heavy-decoy-strangers`: 60 young tenants × 3–8 one-stranger invitations and 2–5 decoys, the first mail one and the rest spread among them (about 40 % of their mails: people at established companies' domains, or addresses established accounts mail), +30 min, spread 5 h, gap 6 min; plus the `launch-day` and `shared-inbox` look-alikes | 9 h |
/// | `rotation-per-account-phone` | as `template-rotation`, but each tenant's lure names its own phone number and no host; plus the `brand-names`, `common-artefacts` and `launch-day` look-alikes | 22 h |
/// | `spread-strangers` | `spread-strangers`: 60 young tenants × 3–8 one-stranger invitations, half at one provider each (any of the ten), half over three providers in turn, +30 min, spread 5 h, gap 6 min; plus the `launch-day`, `webmail-founders` and `shared-inbox` look-alikes | 9 h |
/// | `two-strangers` | `two-strangers`: 120 young tenants × 2 one-stranger invitations at one large provider, +30 min, spread 5 h, gap 6 min; plus the `launch-day`, `webmail-founders` and `shared-inbox` look-alikes | 9 h |
/// | `decoy-two-strangers` | `decoy-two-strangers`: 120 young tenants × one decoy mail to their own fresh domain, then 2 one-stranger invitations at one large provider, +30 min, spread 5 h, gap 6 min; plus the `launch-day-webmail` and `shared-inbox` look-alikes | 9 h |
/// | `signups-then-two-strangers` | the `two-strangers` wave from 3 h after the warm-up; the `organic-signups` look-alike (8 an hour) from the run's start for 11.5 h, so in the warm-up and for 3 h after it before the wave, and the `shared-inbox` look-alike | 12 h |
/// | `launch-day-webmail` | none; the `launch-day-webmail` look-alike (the launch day with its webmail invitees at realistic provider shares) and the `shared-inbox` look-alike | 9 h |
/// | `strangers-beside-launch-day` | the `concentrated-strangers` wave; plus the `launch-day-webmail` and `shared-inbox` look-alikes | 9 h |
/// | `phone-only-lure` | 24 young tenants × 4 messages whose name is one phone number and at most one word, +30 min, spread 12 h (2 an hour), gap 15 min; plus the `brand-names` look-alike | 16 h |
public struct Scenario: Hashable, Sendable {
    /// The scenario's name (`baseline`, `tenant-swarm`, ...).
    public var name: String
    /// The attacks, in the order their incident ids are numbered.
    public var incidents: [BurstPlan]
    /// The length of a run when no duration is given, in seconds.
    public var defaultDurationSeconds: Int64
    /// Look-alikes of this scenario, besides the ones every scenario has (``lookAlikes(scale:)``).
    public var lookAlikes: [BurstPlan]

    public init(name: String, incidents: [BurstPlan], defaultDurationSeconds: Int64, lookAlikes: [BurstPlan] = []) {
        self.name = name
        self.incidents = incidents
        self.defaultDurationSeconds = defaultDurationSeconds
        self.lookAlikes = lookAlikes
    }

    /// The names ``named(_:)`` knows.
    public static let names = all.map(\.name)

    /// The swarm of padded lures: the size and pace of ``hiddenLuresPlan``, its subjects cut in Postfix logs.
    public static let paddedLuresPlan = hiddenLuresPlan.paced(as: .paddedLures)

    /// The default swarm with disguised lures: few enough accounts an hour that only the slot text gives
    /// it away.
    public static let hiddenLuresPlan = BurstPlan(
        kind: .hiddenLures, accounts: 40, messagesPerAccount: 6, startAfterWarmupSeconds: 20 * 60,
        spreadSeconds: 2 * 3600, gapSeconds: 480)
    /// The default day-long rate-shaped swarm: about four new tenants an hour for 24 hours.
    public static let rateShapedSwarmPlan = BurstPlan(
        kind: .rateShapedSwarm, accounts: 100, messagesPerAccount: 4, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 24 * 3600, gapSeconds: 900)
    /// The brand-name look-alike: 12 new tenants whose names look like lures, first sends spread over 3 h from
    /// 15 min after the warm-up, each a welcome and 9 invitations to its own domain, 5 min apart.
    public static let brandNamesPlan = BurstPlan(
        kind: .brandNames, accounts: 12, messagesPerAccount: 10, startAfterWarmupSeconds: 15 * 60,
        spreadSeconds: 3 * 3600, gapSeconds: 300)

    /// The default concentrated-strangers wave: 60 young tenants over 5 hours (about 12 an hour, below the
    /// swarm threshold), each inviting 3 to 8 strangers at one large consumer provider.
    public static let concentratedStrangersPlan = BurstPlan(
        kind: .concentratedStrangers, accounts: 60, messagesPerAccount: 8, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 5 * 3600, gapSeconds: 360)
    /// The launch-day look-alike: 300 new tenants whose first sends are spread over 3 h from 20 min after the
    /// warm-up, each a welcome to its founder and 4 invitations (1–2 people each, 7 in 10 on its own domain, the
    /// rest at webmail), 4 min apart.
    public static let launchDayPlan = BurstPlan(
        kind: .launchDay, accounts: 300, messagesPerAccount: 5, startAfterWarmupSeconds: 20 * 60,
        spreadSeconds: 3 * 3600, gapSeconds: 240)
    /// The launch-day look-alike with its webmail invitees at realistic provider shares (``BurstKind/launchDayWebmail``),
    /// paced like ``launchDayPlan``.
    public static let launchDayWebmailPlan = launchDayPlan.paced(as: .launchDayWebmail)
    /// The shared-inbox look-alike: 40 new tenants over 4 h from 30 min after the warm-up, each a welcome, an
    /// invitation to a colleague that copies the shared partner mailbox, and one more invitation, 5 min apart.
    public static let sharedInboxPlan = BurstPlan(
        kind: .sharedInbox, accounts: 40, messagesPerAccount: 3, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 4 * 3600, gapSeconds: 300)
    /// The default template rotation: 25 tenants, one every 43 minutes for 18 hours, on the five templates in
    /// turn (their first sends are evenly spaced, not random, so that no template gets three in its window).
    public static let templateRotationPlan = BurstPlan(
        kind: .templateRotation, accounts: 25, messagesPerAccount: 4, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 18 * 3600, gapSeconds: 900)
    /// The per-account-phone rotation: paced like ``templateRotationPlan``, each tenant with its own number.
    public static let rotationPerAccountPhonePlan = templateRotationPlan.paced(as: .rotationPerAccountPhone)
    /// The phone-only lure: 24 young tenants over 12 hours (2 an hour), each named by the same phone number.
    public static let phoneOnlyLurePlan = BurstPlan(
        kind: .phoneOnlyLure, accounts: 24, messagesPerAccount: 4, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 12 * 3600, gapSeconds: 900)
    /// The spread-strangers wave: paced like ``concentratedStrangersPlan``, no provider's wave forms.
    public static let spreadStrangersPlan = concentratedStrangersPlan.paced(as: .spreadStrangers)
    /// The two-strangers wave: 120 young tenants over 5 hours (about 24 an hour), each inviting two strangers at
    /// one large provider, 6 minutes apart, and nothing more.
    public static let twoStrangersPlan = BurstPlan(
        kind: .twoStrangers, accounts: 120, messagesPerAccount: 2, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 5 * 3600, gapSeconds: 360)
    /// The decoy-two-strangers wave: paced like ``twoStrangersPlan``, each account's two invitations after one decoy
    /// mail to its own fresh domain (so three mails an account).
    public static let decoyTwoStrangersPlan = twoStrangersPlan.paced(as: .decoyTwoStrangers)
    /// The webmail-founders look-alike: 20 launch-day tenants (about one in sixteen of ``launchDayPlan``), paced
    /// like it, whose founder and team use webmail.
    public static let webmailFoundersPlan = BurstPlan(
        kind: .webmailFounders, accounts: 20, messagesPerAccount: 5, startAfterWarmupSeconds: 20 * 60,
        spreadSeconds: 3 * 3600, gapSeconds: 240)
    /// The organic-signups look-alike: 92 individuals signing up from the run's start (inside the warm-up, where only
    /// JSON lines with creation times show them young: in Postfix, Exim and JSON lines without creation times an
    /// account first seen in SendWatch's warm-up is established) over 11.5 h of a 12 h run (8 an hour, a steady rate:
    /// before, during and after a wave), each a welcome to their own webmail address and 1–3 invitations, 4 min apart.
    /// Their address is at the largest provider for 9 in 20, the second for 4 in 20 and other webmail for the rest:
    /// about 3.6 an hour at the largest and 1.6 at the second, most of whose invitations go to the same provider.
    public static let organicSignupsPlan = BurstPlan(
        kind: .organicSignups, accounts: 92, messagesPerAccount: 4, startAfterWarmupSeconds: 0,
        spreadSeconds: 11 * 3600 + 1800, gapSeconds: 240, startsAtRunStart: true)
    /// The common-artefacts look-alike: 12 new tenants whose names carry the platform's help link or a webmail
    /// domain, first sends spread over 3 h from 20 min after the warm-up, each a welcome and 9 invitations to
    /// its own domain, 5 min apart.
    public static let commonArtefactsPlan = BurstPlan(
        kind: .commonArtefacts, accounts: 12, messagesPerAccount: 10, startAfterWarmupSeconds: 20 * 60,
        spreadSeconds: 3 * 3600, gapSeconds: 300)

    /// The `decoy-colleague` scenario's stranger wave: the concentrated-strangers wave whose accounts each also
    /// send one or two decoy mails (first) to their own freshly registered domain, besides 3 to
    /// ``BurstPlan/messagesPerAccount`` stranger invitations.
    public static let decoyStrangersPlan = concentratedStrangersPlan.paced(as: .decoyStrangers)
    /// The `heavy-decoys` scenario's wave: the concentrated-strangers wave whose accounts send 3 to
    /// ``BurstPlan/messagesPerAccount`` stranger invitations and, spread among them, about two decoys for every
    /// three (40 % of their mails).
    public static let heavyDecoyStrangersPlan = concentratedStrangersPlan.paced(as: .heavyDecoyStrangers)
    /// The `decoy-colleague` scenario's swarm: 150 young tenants in an hour during the launch day, each
    /// sending ``BurstPlan/messagesPerAccount`` scam-slot messages to scraped consumer addresses and, first,
    /// one or two decoy mails to its own freshly registered domain.
    public static let decoySwarmPlan = BurstPlan(
        kind: .decoySwarm, accounts: 150, messagesPerAccount: 6, startAfterWarmupSeconds: 60 * 60,
        spreadSeconds: 3600, gapSeconds: 180)

    /// The default swarm of young tenants.
    public static let tenantSwarmPlan = BurstPlan(
        kind: .tenantSwarm, accounts: 250, messagesPerAccount: 8, startAfterWarmupSeconds: 20 * 60,
        spreadSeconds: 40 * 60, gapSeconds: 180)
    /// The default trial-welcome wave.
    public static let trialWelcomePlan = BurstPlan(
        kind: .trialWelcome, accounts: 58, messagesPerAccount: 29, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 90 * 60, gapSeconds: 120)
    /// The default single young account's burst.
    public static let youngBurstPlan = BurstPlan(
        kind: .youngBurst, accounts: 1, messagesPerAccount: 400, startAfterWarmupSeconds: 45 * 60,
        spreadSeconds: 0, gapSeconds: 1.2)
    /// The default low-and-slow swarm.
    public static let lowAndSlowPlan = BurstPlan(
        kind: .lowAndSlow, accounts: 120, messagesPerAccount: 6, startAfterWarmupSeconds: 30 * 60,
        spreadSeconds: 4 * 3600, gapSeconds: 20 * 60)

    /// The scenario called `name`, or `nil`.
    public static func named(_ name: String) -> Scenario? { all.first { $0.name == name } }

    /// Every scenario, each declared once: ``names`` and ``named(_:)`` read this list.
    static let all: [Scenario] = {
        let sixHours: Int64 = 6 * 3600
        let nineHours: Int64 = 9 * 3600
        // The waves of strangers' invitations are set against new tenants inviting many people legitimately.
        let strangerLookAlikes = [launchDayPlan, sharedInboxPlan]
        let strangerWaveLookAlikes = [launchDayPlan, webmailFoundersPlan, sharedInboxPlan]
        var burst = youngBurstPlan
        burst.startAfterWarmupSeconds = 2 * 3600
        var trial = trialWelcomePlan
        trial.startAfterWarmupSeconds = 3 * 3600
        // Organic sign-ups all run long: in the warm-up and 3 h after it before the wave (what a base rate learns
        // from), during and after it.
        var wave = twoStrangersPlan
        wave.startAfterWarmupSeconds = 3 * 3600
        return [
            Scenario(name: "baseline", incidents: [], defaultDurationSeconds: sixHours),
            Scenario(name: "tenant-swarm", incidents: [tenantSwarmPlan], defaultDurationSeconds: sixHours),
            Scenario(name: "trial-welcome", incidents: [trialWelcomePlan], defaultDurationSeconds: sixHours),
            Scenario(name: "young-burst", incidents: [youngBurstPlan], defaultDurationSeconds: sixHours),
            Scenario(name: "low-and-slow", incidents: [lowAndSlowPlan], defaultDurationSeconds: nineHours),
            Scenario(
                name: "mixed", incidents: [tenantSwarmPlan, burst, trial, lowAndSlowPlan],
                defaultDurationSeconds: nineHours),
            Scenario(
                name: "hidden-lures", incidents: [hiddenLuresPlan], defaultDurationSeconds: sixHours,
                lookAlikes: [brandNamesPlan]),
            Scenario(
                name: "padded-lures", incidents: [paddedLuresPlan], defaultDurationSeconds: sixHours,
                lookAlikes: [brandNamesPlan]),
            Scenario(
                name: "rate-shaped-swarm", incidents: [rateShapedSwarmPlan], defaultDurationSeconds: 28 * 3600,
                lookAlikes: [brandNamesPlan]),
            Scenario(
                name: "concentrated-strangers", incidents: [concentratedStrangersPlan],
                defaultDurationSeconds: nineHours, lookAlikes: strangerLookAlikes),
            Scenario(
                name: "template-rotation", incidents: [templateRotationPlan], defaultDurationSeconds: 22 * 3600,
                lookAlikes: [commonArtefactsPlan]),
            Scenario(
                name: "decoy-colleague", incidents: [decoyStrangersPlan, decoySwarmPlan],
                defaultDurationSeconds: nineHours, lookAlikes: strangerLookAlikes),
            Scenario(
                name: "rotation-per-account-phone", incidents: [rotationPerAccountPhonePlan],
                defaultDurationSeconds: 22 * 3600, lookAlikes: [brandNamesPlan, commonArtefactsPlan, launchDayPlan]),
            Scenario(
                name: "heavy-decoys", incidents: [heavyDecoyStrangersPlan], defaultDurationSeconds: nineHours,
                lookAlikes: strangerLookAlikes),
            Scenario(
                name: "phone-only-lure", incidents: [phoneOnlyLurePlan], defaultDurationSeconds: 16 * 3600,
                lookAlikes: [brandNamesPlan]),
            Scenario(
                name: "spread-strangers", incidents: [spreadStrangersPlan], defaultDurationSeconds: nineHours,
                lookAlikes: strangerWaveLookAlikes),
            Scenario(
                name: "two-strangers", incidents: [twoStrangersPlan], defaultDurationSeconds: nineHours,
                lookAlikes: strangerWaveLookAlikes),
            // Two strangers an account behind a decoy at its own domain: per account the shape of a launch day's tenant
            // that welcomed its founder and invited two webmail friends at one provider, so it runs beside that
            // launch day.
            Scenario(
                name: "decoy-two-strangers", incidents: [decoyTwoStrangersPlan], defaultDurationSeconds: nineHours,
                lookAlikes: [launchDayWebmailPlan, sharedInboxPlan]),
            // The launch day whose webmail invitees gather at the big providers, alone and beside a stranger wave at
            // those providers.
            Scenario(
                name: "launch-day-webmail", incidents: [], defaultDurationSeconds: nineHours,
                lookAlikes: [launchDayWebmailPlan, sharedInboxPlan]),
            Scenario(
                name: "strangers-beside-launch-day", incidents: [concentratedStrangersPlan],
                defaultDurationSeconds: nineHours, lookAlikes: [launchDayWebmailPlan, sharedInboxPlan]),
            Scenario(
                name: "signups-then-two-strangers", incidents: [wave], defaultDurationSeconds: 12 * 3600,
                lookAlikes: [organicSignupsPlan, sharedInboxPlan]),
        ]
    }()

    /// Messages of the `newsletter` look-alike at scale 1; with ``BurstPlan/maxMessagesPerAccount`` it bounds the
    /// scale.
    static let newsletterMessages = 2500.0

    /// The legitimate look-alikes every scenario contains, sized by `scale`:
    /// - `newsletter`: one old account sends `2500 × scale` one-recipient messages in 45 min, 40 min after
    ///   the warm-up;
    /// - `password-reset-storm`: one established tenant sends `400 × scale` password resets in 25 min, 100 min
    ///   after the warm-up;
    /// - `tenant-onboarding`: `12 × scale` new tenants, first sends spread over 3 h from 10 min after the
    ///   warm-up, each a welcome and 9 invitations to its own domain, 5 min apart;
    /// - `new-employees`: `5 × scale` new SASL accounts of existing company domains, first sends spread over
    ///   1 h from 5 min after the warm-up, 30 messages each, 7 min apart.
    ///
    /// A `scale` outside ``SimulationConfiguration/scaleRange`` (not a number, infinite, too large) gives the
    /// plans of the nearest scale in range, so that building a configuration never traps; ``SimulationConfiguration/validate()``
    /// reports such a scale.
    public static func lookAlikes(scale: Double) -> [BurstPlan] {
        let range = SimulationConfiguration.scaleRange
        let scale = scale.isNaN ? 1 : min(max(scale, range.lowerBound), range.upperBound)
        func scaled(_ n: Double, minimum: Int) -> Int { max(minimum, Int((n * scale).rounded())) }
        let letters = scaled(newsletterMessages, minimum: 20)
        let resets = scaled(400, minimum: 10)
        return [
            BurstPlan(
                kind: .newsletter, accounts: 1, messagesPerAccount: letters, startAfterWarmupSeconds: 40 * 60,
                spreadSeconds: 0, gapSeconds: 2700 / Double(letters)),
            BurstPlan(
                kind: .passwordResetStorm, accounts: 1, messagesPerAccount: resets,
                startAfterWarmupSeconds: 100 * 60, spreadSeconds: 0, gapSeconds: 1500 / Double(resets)),
            BurstPlan(
                kind: .tenantOnboarding, accounts: scaled(12, minimum: 1), messagesPerAccount: 10,
                startAfterWarmupSeconds: 10 * 60, spreadSeconds: 3 * 3600, gapSeconds: 300),
            BurstPlan(
                kind: .newEmployees, accounts: scaled(5, minimum: 1), messagesPerAccount: 30,
                startAfterWarmupSeconds: 5 * 60, spreadSeconds: 3600, gapSeconds: 420),
        ]
    }
}
