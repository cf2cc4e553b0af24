import SendWatchCore

/// A sending account of the simulation. Accounts are created once at the start; nothing about them grows
/// with the length of the run.
struct SimAccount: Sendable {
    enum Kind: UInt8 { case person, tenant }
    var kind: Kind
    /// The id SendWatch resolves (`X-Account-Id` value, else SASL user).
    var id: String
    var saslUser: String
    var sender: String
    var header: String?
    var created: EventTime
    var clientIP: String
    var helo: String
    /// Person: the company domain. Tenant: the tenant's own domain (where its team works).
    var domain: String
    /// Tenant: the text of the `{tenant}` slot. Person: capitalised first name.
    var displayName: String
    /// Background messages per hour at the daily peak (0: none).
    var rate: Double
    /// Person: contacts in the address book. Tenant: users it notifies.
    var audience: Int
    /// Key for attributes derived on demand (contacts, users).
    var key: UInt64
    /// Index of the label group (incident or look-alike), or -1.
    var group: Int32
    var port: Int
    /// Probability that a recipient bounces.
    var bounceRate: Double
    /// Template rotation: the index in ``Vocabulary/templates`` this account uses, and the lure it puts into
    /// that template's ``Vocabulary/rotationSlots`` slot.
    var rotation: (template: Int, lure: String)? = nil
    /// Heavy decoys: the account's messages and how many of them are decoys (spread evenly, the first an
    /// decoy).
    var decoyPlan: (messages: Int, decoys: Int)? = nil
}

/// A stream of messages of one account: its background traffic or its part in a burst.
struct Source: Comparable, Sendable {
    /// Microseconds of the next submission.
    var next: Int64
    /// Unique; breaks ties.
    var order: UInt64
    var account: Int32
    /// Messages left in a burst; -1 for background traffic (until the end of the run).
    var remaining: Int32
    /// Messages already sent by this source.
    var sent: Int32
    /// Mean microseconds between burst messages.
    var gapMicros: Double
    /// The burst's kind, or nil for background traffic.
    var burst: BurstKind?

    static func < (a: Source, b: Source) -> Bool { a.next != b.next ? a.next < b.next : a.order < b.order }
    static func == (a: Source, b: Source) -> Bool { a.next == b.next && a.order == b.order }
}

/// A labelled group of accounts: an incident or a look-alike.
struct LabelGroup: Sendable {
    var id: String
    var kind: BurstKind
    var accounts: [Int32]
}

/// The traffic model: who sends, when, what and to whom. Produces ``SimulatedMessage`` values in submission
/// order; knows nothing about log formats.
///
/// Memory: O(accounts) for the account table and one ``Source`` per account and burst participant; nothing
/// grows with the duration of the run.
struct TrafficModel: Sendable {
    let configuration: SimulationConfiguration
    private(set) var accounts: [SimAccount] = []
    private(set) var groups: [LabelGroup] = []
    private var sources = BinaryHeap<Source>()
    private var rng: SimulationRandom
    private var sourceOrder: UInt64 = 0
    private var messageSequence: UInt64 = 0
    /// Counts the attack recipients and `organic-signups` addresses made, so each gets its own number.
    private var attackRecipientCounter: UInt64 = 0
    /// Whether the run has the `shared-inbox` look-alike: then established people write to ``sharedInbox`` too.
    private var hasSharedInbox = false
    private let seed: UInt64
    private let endMicros: Int64

    static let platformSASL = "notify@notify.example.net"
    static let platformSender = "no-reply@notify.example.net"
    static let platformDomain = "notify.example.net"
    static let hostedDomain = "members.example.com"
    /// The large consumer providers: the first two ``Vocabulary/consumerDomains``.
    static let largeProviders = 2

    init(configuration: SimulationConfiguration) {
        self.configuration = configuration
        seed = configuration.seed
        rng = SimulationRandom(seed: configuration.seed, stream: 1)
        endMicros = configuration.end.microseconds
        buildBackground()
        buildBursts()
    }

    // MARK: - Setup

    private func hash(_ a: UInt64, _ b: UInt64 = 0, _ c: UInt64 = 0) -> UInt64 { SimulationRandom.mix(seed, a, b, c) }

    private static func capitalized(_ s: String) -> String {
        guard let f = s.first else { return s }
        return f.uppercased() + s.dropFirst()
    }

    private func companyDomain(_ index: Int) -> String {
        let h = hash(11, UInt64(index))
        let stems = Vocabulary.companyStems
        let stem = stems[(index + Int(h % 7)) % stems.count]
        let suffix = Vocabulary.companySuffixes[Int((h >> 8) % UInt64(Vocabulary.companySuffixes.count))]
        return index < stems.count ? stem + suffix : stem + String(index / stems.count) + suffix
    }

    private func ipv4(_ h: UInt64) -> String {
        let nets = ["192.0.2.", "198.51.100.", "203.0.113."]
        return nets[Int(h % 3)] + String(2 + Int((h >> 8) % 250))
    }

    /// A person's address: `first.last`, `first.lastNN` or `firstNN` at `domain`.
    static func personAddress(_ h: UInt64, domain: String) -> String {
        let first = Vocabulary.firstNames[Int(h % UInt64(Vocabulary.firstNames.count))]
        let last = Vocabulary.lastNames[Int((h >> 16) % UInt64(Vocabulary.lastNames.count))]
        let n = Int((h >> 32) % 100)
        switch (h >> 40) % 4 {
        case 0: return "\(first)\(n)@\(domain)"
        case 1: return "\(first).\(last)\(n)@\(domain)"
        default: return "\(first).\(last)@\(domain)"
        }
    }

    private var companyCount: Int { max(3, Int((60 * configuration.scale).rounded())) }

    private mutating func buildBackground() {
        let scale = configuration.scale
        let people = max(3, Int((400 * scale).rounded()))
        let tenants = max(3, Int((150 * scale).rounded()))
        let start = configuration.start.microseconds
        var used = Set<String>()
        for i in 0..<people {
            let h = hash(21, UInt64(i))
            let onHosted = h % 4 == 0
            let domain = onHosted ? TrafficModel.hostedDomain : companyDomain(Int((h >> 4) % UInt64(companyCount)))
            var address = TrafficModel.personAddress(hash(22, UInt64(i)), domain: domain)
            var k: UInt64 = 0
            while used.contains(address) {
                k += 1
                address = TrafficModel.personAddress(hash(22, UInt64(i), k), domain: domain)
            }
            used.insert(address)
            let first = String(address.prefix { $0 != "." && $0 != "@" && !$0.isNumber })
            let ip = ipv4(hash(23, UInt64(i)))
            let helo: String
            switch h % 3 {
            case 0: helo = "[\(ip)]"
            case 1: helo = "\(first)-laptop.\(domain)"
            default: helo = "mail-client.\(domain)"
            }
            let rate = min(40, rng.pareto(minimum: 0.6, alpha: 1.4))
            accounts.append(
                SimAccount(
                    kind: .person, id: address, saslUser: address, sender: address, header: nil,
                    created: EventTime(
                        microseconds: start - Int64(rng.int(in: 30 * 86_400...1500 * 86_400)) * 1_000_000),
                    clientIP: ip, helo: helo, domain: domain, displayName: TrafficModel.capitalized(first), rate: rate,
                    audience: rng.int(in: 5...60), key: h, group: -1, port: h % 5 == 0 ? 25 : 587, bounceRate: 0.015))
        }
        establishedTenants = tenants
        for i in 0..<tenants {
            accounts.append(makeTenant(index: i, established: true, label: -1))
            accounts[accounts.count - 1].rate = min(150, rng.pareto(minimum: 1.5, alpha: 1.2))
        }
        // Every established account sends once in the first 55 minutes, then follows its own rhythm.
        for i in accounts.indices {
            let first = start + Int64(rng.uniform(30, 55 * 60) * 1e6)
            addSource(
                Source(next: first, order: 0, account: Int32(i), remaining: -1, sent: 0, gapMicros: 0, burst: nil))
        }
    }

    /// The last recipients of established accounts' background mail, at most ``maxRecentEstablishedRecipients``
    /// (the oldest replaced): what a heavy decoy is sent to.
    private var recentEstablishedRecipients: [String] = []
    private var recentEstablishedNext = 0
    static let maxRecentEstablishedRecipients = 512
    private var youngTenantCounter = 0
    private var youngTenantTotal = 0
    private var establishedTenants = 0

    private mutating func makeTenant(index: Int, established: Bool, label: Int32) -> SimAccount {
        let h = hash(31, UInt64(index), established ? 0 : 1)
        let id: String
        let name: String
        if established {
            id = "t-\(10_001 + index)"
            let names = Vocabulary.tenantNames
            let suffix = Vocabulary.tenantNameSuffixes[(index / names.count) % Vocabulary.tenantNameSuffixes.count]
            name = names[index % names.count] + suffix
        } else {
            // Young tenants get the platform's next ids after the established ones, in a seeded order (an
            // affine permutation, so ids stay unique) so that a burst is not one block of ids.
            let n = max(1, youngTenantTotal)
            var a = Int(hash(32) % UInt64(n)) | 1
            while gcd(a, n) != 1 { a += 1 }
            let slot = (a * youngTenantCounter + Int(hash(33) % UInt64(n))) % n
            youngTenantCounter += 1
            id = "t-\(10_001 + establishedTenants + 37 + slot)"
            name = Vocabulary.tenantNames[Int(h % UInt64(Vocabulary.tenantNames.count))]
        }
        let worker = Int(h % 3) + 1
        let stem = name.lowercased().filter { $0.isLetter }
        return SimAccount(
            kind: .tenant, id: id, saslUser: TrafficModel.platformSASL, sender: TrafficModel.platformSender,
            header: id,
            created: EventTime(
                microseconds: configuration.start.microseconds - Int64(rng.int(in: 60 * 86_400...900 * 86_400))
                    * 1_000_000),
            clientIP: "192.0.2.\(20 + worker)", helo: "app-worker-\(worker).\(TrafficModel.platformDomain)",
            domain: stem + (established ? "" : String(h % 1000)) + ".example.com", displayName: name, rate: 0,
            audience: Int(min(5000, rng.pareto(minimum: 20, alpha: 0.9))), key: h, group: label, port: 25,
            bounceRate: 0.015)
    }

    private mutating func addSource(_ source: Source) {
        var s = source
        s.order = sourceOrder
        sourceOrder += 1
        sources.push(s)
    }

    private mutating func buildBursts() {
        var perKind: [BurstKind: Int] = [:]
        let tenantKinds: [BurstKind] = [
            .tenantSwarm, .lowAndSlow, .trialWelcome, .tenantOnboarding, .hiddenLures, .paddedLures, .rateShapedSwarm,
            .brandNames, .concentratedStrangers, .launchDay, .sharedInbox, .templateRotation, .commonArtefacts,
            .decoyStrangers,
            .decoySwarm, .rotationPerAccountPhone, .heavyDecoyStrangers, .phoneOnlyLure, .spreadStrangers,
            .twoStrangers, .webmailFounders, .organicSignups, .launchDayWebmail, .decoyTwoStrangers,
        ]
        hasSharedInbox = configuration.lookAlikes.contains { $0.kind == .sharedInbox }
        youngTenantTotal = (configuration.scenario.incidents + configuration.lookAlikes)
            .filter { tenantKinds.contains($0.kind) }.reduce(0) { $0 + $1.accounts }
        let warmupEnd = configuration.warmupEnd.microseconds
        for plan in configuration.scenario.incidents + configuration.lookAlikes {
            perKind[plan.kind, default: 0] += 1
            let groupIndex = Int32(groups.count)
            var group = LabelGroup(id: "\(plan.kind.rawValue)-\(perKind[plan.kind]!)", kind: plan.kind, accounts: [])
            for a in 0..<plan.accounts {
                // A rotating campaign paces its accounts evenly (up to 3 minutes early or late), so that each
                // template stays below the per-template thresholds; other bursts start at random in the spread.
                let offset =
                    plan.kind == .templateRotation || plan.kind == .rotationPerAccountPhone
                    ? Double(plan.spreadSeconds) * Double(a) / Double(max(1, plan.accounts)) + rng.uniform(-180, 180)
                    : rng.unit() * Double(plan.spreadSeconds)
                let origin = plan.startsAtRunStart ? configuration.start.microseconds : warmupEnd
                let firstSend = origin + plan.startAfterWarmupSeconds * 1_000_000 + Int64(max(0, offset) * 1e6)
                let index: Int
                switch plan.kind {
                case .newsletter:
                    index = accounts.count
                    let domain = "shop." + companyDomain(a + 1)
                    let address = "news@\(domain)"
                    accounts.append(
                        SimAccount(
                            kind: .person, id: address, saslUser: address, sender: address, header: nil,
                            created: EventTime(
                                microseconds: configuration.start.microseconds
                                    - Int64(rng.int(in: 400 * 86_400...2000 * 86_400)) * 1_000_000),
                            clientIP: ipv4(hash(41, UInt64(a))), helo: "newsletter.\(domain)", domain: domain,
                            displayName: "News", rate: 0.3, audience: 100_000, key: hash(42, UInt64(a)),
                            group: groupIndex, port: 587, bounceRate: 0.03))
                    // The old account is established: it sends during the warm-up too.
                    addSource(
                        Source(
                            next: configuration.start.microseconds + Int64(rng.uniform(60, 50 * 60) * 1e6), order: 0,
                            account: Int32(index), remaining: -1, sent: 0, gapMicros: 0, burst: nil))
                case .passwordResetStorm:
                    // An established tenant (the first ones are the busiest names).
                    index = accounts.firstIndex { $0.kind == .tenant } ?? 0
                    accounts[index].group = groupIndex
                case .tenantSwarm, .lowAndSlow, .trialWelcome, .tenantOnboarding, .hiddenLures, .paddedLures,
                    .rateShapedSwarm, .brandNames, .concentratedStrangers, .launchDay, .sharedInbox, .templateRotation,
                    .commonArtefacts, .decoyStrangers, .decoySwarm, .rotationPerAccountPhone, .heavyDecoyStrangers,
                    .phoneOnlyLure, .spreadStrangers, .twoStrangers, .webmailFounders, .organicSignups,
                    .launchDayWebmail, .decoyTwoStrangers:
                    index = accounts.count
                    var t = makeTenant(index: accounts.count, established: false, label: groupIndex)
                    switch plan.kind {
                    case .tenantSwarm, .lowAndSlow, .rateShapedSwarm, .decoySwarm:
                        t.displayName = Vocabulary.scamSlots[rng.int(below: Vocabulary.scamSlots.count)]
                        t.bounceRate = 0.12
                    case .hiddenLures:
                        t.displayName = Vocabulary.hiddenLureSlots[rng.int(below: Vocabulary.hiddenLureSlots.count)]
                        t.bounceRate = 0.12
                    case .paddedLures:
                        t.displayName = Vocabulary.paddedLureSlots[rng.int(below: Vocabulary.paddedLureSlots.count)]
                        t.bounceRate = 0.12
                    case .phoneOnlyLure:
                        t.displayName = Vocabulary.phoneOnlyLures[rng.int(below: Vocabulary.phoneOnlyLures.count)]
                        t.bounceRate = 0.12
                    case .brandNames:
                        // Each brand once while there are enough, so every name is tried.
                        t.displayName = Vocabulary.brandNames[a % Vocabulary.brandNames.count]
                        t.bounceRate = 0.02
                    case .trialWelcome:
                        t.displayName = Vocabulary.phishingBrands[rng.int(below: Vocabulary.phishingBrands.count)]
                        t.bounceRate = 0.1
                    case .concentratedStrangers, .decoyStrangers, .heavyDecoyStrangers, .spreadStrangers, .twoStrangers,
                        .decoyTwoStrangers:
                        // An innocent brand name: nothing in the slot gives it away.
                        t.bounceRate = 0.08
                    case .webmailFounders:
                        // The founder's (and most of the team's) domain is a consumer provider.
                        let d = Vocabulary.consumerDomains
                        t.domain = d[Int((t.key >> 24) % UInt64(d.count))]
                        t.bounceRate = 0.02
                    case .organicSignups:
                        // An individual: its own webmail address, the largest provider for 9 in 20, the second for
                        // 4 in 20, other webmail for the rest.
                        t.domain = TrafficModel.signupProvider(t.key)
                        t.bounceRate = 0.02
                    case .templateRotation:
                        // The templates in turn; the lures in a seeded order.
                        t.rotation = (
                            a % Vocabulary.templates.count,
                            Vocabulary.rotationLures[rng.int(below: Vocabulary.rotationLures.count)]
                        )
                        t.bounceRate = 0.12
                    case .rotationPerAccountPhone:
                        t.rotation = (
                            a % Vocabulary.templates.count,
                            Vocabulary.perAccountPhoneLure(
                                rng.int(below: Vocabulary.perAccountPhoneLures.count), account: a)
                        )
                        t.bounceRate = 0.12
                    case .commonArtefacts:
                        let suffix = Vocabulary.commonArtefactSuffixes[a % Vocabulary.commonArtefactSuffixes.count]
                        t.displayName += suffix
                        t.bounceRate = 0.02
                    default:
                        t.bounceRate = 0.02
                    }
                    let minutesBefore: ClosedRange<Int> =
                        [
                            .tenantOnboarding, .brandNames, .launchDay, .sharedInbox, .commonArtefacts,
                            .webmailFounders, .organicSignups, .launchDayWebmail,
                        ].contains(plan.kind)
                        ? 1...120 : 2...180
                    t.created = EventTime(
                        microseconds: firstSend - Int64(rng.int(in: minutesBefore)) * 60_000_000
                            - Int64(rng.int(in: 0...59_999_999)))
                    accounts.append(t)
                case .youngBurst:
                    index = accounts.count
                    let address =
                        "signup-\(String(hash(51, UInt64(a)) & 0xFFFF, radix: 16))@\(TrafficModel.hostedDomain)"
                    let ip = ipv4(hash(52, UInt64(a)))
                    accounts.append(
                        SimAccount(
                            kind: .person, id: address, saslUser: address, sender: address, header: nil,
                            created: EventTime(microseconds: firstSend - Int64(rng.int(in: 180...5_400)) * 1_000_000),
                            clientIP: ip, helo: "[\(ip)]", domain: TrafficModel.hostedDomain, displayName: "Signup",
                            rate: 0, audience: 0, key: hash(53, UInt64(a)), group: groupIndex, port: 587,
                            bounceRate: 0.15))
                case .newEmployees:
                    index = accounts.count
                    // A company that already has accounts here.
                    let colleague = accounts[rng.int(below: max(1, accounts.count))]
                    let domain =
                        colleague.kind == .person && colleague.domain != TrafficModel.hostedDomain
                        ? colleague.domain : companyDomain(0)
                    let h = hash(61, UInt64(a), UInt64(groupIndex))
                    let first = Vocabulary.firstNames[Int(h % UInt64(Vocabulary.firstNames.count))]
                    let last = Vocabulary.lastNames[Int((h >> 16) % UInt64(Vocabulary.lastNames.count))]
                    let address = "\(first).\(last).new\(a + 1)@\(domain)"
                    let ip = ipv4(hash(62, UInt64(a)))
                    accounts.append(
                        SimAccount(
                            kind: .person, id: address, saslUser: address, sender: address, header: nil,
                            created: EventTime(
                                microseconds: firstSend - Int64(rng.int(in: 1_800...86_400)) * 1_000_000),
                            clientIP: ip, helo: "\(first)-laptop.\(domain)", domain: domain,
                            displayName: TrafficModel.capitalized(first), rate: 0, audience: 25, key: h,
                            group: groupIndex, port: 587, bounceRate: 0.01))
                }
                group.accounts.append(Int32(index))
                // A stranger-inviting account sends 3 to the plan's count of invitations; a decoy-sending one
                // sends its decoys besides.
                var messages =
                    [.concentratedStrangers, .decoyStrangers, .heavyDecoyStrangers, .spreadStrangers].contains(
                        plan.kind)
                    ? rng.int(in: min(3, plan.messagesPerAccount)...plan.messagesPerAccount) : plan.messagesPerAccount
                // An individual's welcome and one to three invitations (the plan's count at most).
                if plan.kind == .organicSignups {
                    messages = rng.int(in: min(2, plan.messagesPerAccount)...plan.messagesPerAccount)
                }
                var decoys =
                    [.decoyStrangers, .decoySwarm].contains(plan.kind) ? TrafficModel.decoys(accounts[index]) : 0
                // One decoy, the least that keeps the account from mailing only strangers.
                if plan.kind == .decoyTwoStrangers { decoys = 1 }
                if plan.kind == .heavyDecoyStrangers {
                    // Two decoys for every three invitations, rounded: 40 % of the account's mails.
                    decoys = (2 * messages + 1) / 3
                    accounts[index].decoyPlan = (messages + decoys, decoys)
                }
                addSource(
                    Source(
                        next: firstSend, order: 0, account: Int32(index), remaining: Int32(messages + decoys),
                        sent: 0, gapMicros: plan.gapSeconds * 1e6, burst: plan.kind))
            }
            groups.append(group)
        }
    }

    // MARK: - Running

    /// The submission time of the next message, or nil when the run is over.
    var nextSubmission: EventTime? {
        guard let s = sources.first, s.next < endMicros else { return nil }
        return EventTime(microseconds: s.next)
    }

    /// Daily rhythm of person-to-person mail by UTC hour, peak 1.
    private static let officeRhythm: [Double] = [
        0.15, 0.1, 0.1, 0.1, 0.12, 0.2, 0.35, 0.6, 0.85, 1, 1, 0.95, 0.8, 0.9, 1, 0.95, 0.85, 0.7, 0.5, 0.4, 0.35,
        0.3, 0.25, 0.2,
    ]

    private static func rhythm(_ kind: SimAccount.Kind, at micros: Int64) -> Double {
        let hour = Int(((micros / 3_600_000_000) % 24 + 24) % 24)
        let office = officeRhythm[hour]
        return kind == .person ? office : 0.4 + 0.6 * office
    }

    /// Produces the next message (in submission order) and reschedules its source.
    ///
    /// - Complexity: O(log sources + recipients).
    mutating func nextMessage() -> (message: SimulatedMessage, account: Int32, group: Int32)? {
        guard var source = sources.pop(), source.next < endMicros else { return nil }
        let account = accounts[Int(source.account)]
        let message = makeMessage(account: account, source: source)
        source.sent += 1
        if source.remaining > 0 {
            source.remaining -= 1
            if source.remaining > 0 {
                source.next += Int64(source.gapMicros * rng.uniform(0.5, 1.5)) + 1
                sources.push(source)
            }
        } else if source.remaining < 0, account.rate > 0 {
            // Thinning: candidate times at the peak rate, kept with probability rhythm/peak.
            let meanMicros = 3.6e9 / account.rate
            var t = source.next
            repeat {
                t += Int64(rng.exponential(mean: meanMicros)) + 1
            } while t < endMicros && !rng.chance(TrafficModel.rhythm(account.kind, at: t))
            source.next = t
            if t < endMicros { sources.push(source) }
        }
        return (message, source.account, account.group)
    }

    // MARK: - Messages

    private mutating func makeMessage(account: SimAccount, source: Source) -> SimulatedMessage {
        messageSequence += 1
        let connected = source.next
        let accepted = connected + Int64(rng.int(in: 30_000...250_000))
        let queued = accepted + Int64(rng.int(in: 5_000...60_000))
        var subject: String
        var template: String?
        var addresses: [String] = []
        var size = account.kind == .tenant ? rng.int(in: 3_000...9_000) : Int(rng.pareto(minimum: 700, alpha: 1.2))
        size = min(size, 25_000_000)

        switch source.burst {
        case nil:
            if account.kind == .tenant {
                (template, subject) = tenantSubject(account, pick: nil)
                addresses = tenantRecipients(account, count: rng.chance(0.85) ? 1 : rng.int(in: 2...3))
            } else {
                subject = rng.pick(Vocabulary.ordinarySubjects)
                let r = rng.unit()
                addresses = contacts(account, count: r < 0.6 ? 1 : (r < 0.85 ? 2 : rng.int(in: 3...5)))
                // Some established people write to the shared partner mailbox now and then (decided by a hash,
                // so runs without the look-alike draw the same numbers as before).
                if hasSharedInbox, hash(91, account.key) % 5 == 0, hash(92, account.key, messageSequence) % 8 == 0 {
                    addresses.append(sharedInbox)
                }
            }
        case .newsletter:
            subject = Vocabulary.newsletterSubjects[Int(account.key % UInt64(Vocabulary.newsletterSubjects.count))]
            addresses = [
                TrafficModel.personAddress(hash(71, account.key, UInt64(source.sent)), domain: consumerDomain())
            ]
            size = rng.int(in: 40_000...60_000)
        case .passwordResetStorm:
            (template, subject) = tenantSubject(account, pick: 3)
            addresses = tenantRecipients(account, count: 1)
        case .tenantOnboarding, .brandNames, .commonArtefacts, .launchDay, .sharedInbox, .webmailFounders,
            .organicSignups, .launchDayWebmail:
            // A new tenant's first message welcomes the person who signed up; the next ones invite their team.
            let inviter = TrafficModel.personAddress(hash(72, account.key), domain: account.domain)
            let inviterName = TrafficModel.capitalized(String(inviter.prefix { $0.isLetter }))
            if source.sent == 0 {
                template = "welcome"
                subject = "Welcome to \(account.displayName), \(inviterName)!"
                // An individual's own address is numbered, so nobody mailed it before.
                addresses = [
                    source.burst == .organicSignups
                        ? numberedPerson(hash(72, account.key), domain: account.domain, mark: ".") : inviter
                ]
            } else {
                template = "invite-team"
                subject = "\(inviterName) invited you to join \(account.displayName)"
                addresses = invitees(account, source)
            }
        case .concentratedStrangers, .twoStrangers:
            (template, subject, addresses) = strangerInvitation(account)
        case .spreadStrangers:
            (template, subject, addresses) = strangerInvitation(account, provider: spreadProvider(account, source))
        case .decoyStrangers:
            if source.sent < TrafficModel.decoys(account) {
                (template, subject, addresses) = invitation(account, to: decoyAddress(account, source))
            } else {
                (template, subject, addresses) = strangerInvitation(account)
            }
        case .decoyTwoStrangers:
            // Its one decoy first, then its two invitations.
            if source.sent == 0 {
                (template, subject, addresses) = invitation(account, to: decoyAddress(account, source))
            } else {
                (template, subject, addresses) = strangerInvitation(account)
            }
        case .heavyDecoyStrangers:
            // Safe to force unwrap: every heavy-decoy account is given a plan when it is made.
            let plan = account.decoyPlan!
            let k = Int(source.sent)
            // The decoys spread evenly, the first message one of them (k × decoys mod messages < decoys), so
            // that at every point about 40 % of the account's recipients are decoys.
            if k * plan.decoys % plan.messages < plan.decoys {
                (template, subject, addresses) = invitation(account, to: heavyDecoyAddress(account, source))
            } else {
                (template, subject, addresses) = strangerInvitation(account)
            }
        case .decoySwarm:
            (template, subject) = tenantSubject(account, pick: rng.chance(0.6) ? 0 : 4)
            addresses =
                source.sent < TrafficModel.decoys(account)
                ? [decoyAddress(account, source)] : attackRecipients(count: rng.int(in: 1...3))
        case .newEmployees:
            subject = rng.pick(Vocabulary.firstDaySubjects)
            addresses = contacts(account, count: rng.chance(0.7) ? 1 : rng.int(in: 2...4))
        case .tenantSwarm, .lowAndSlow, .hiddenLures, .paddedLures, .rateShapedSwarm, .phoneOnlyLure:
            (template, subject) = tenantSubject(account, pick: rng.chance(0.6) ? 0 : 4)
            addresses = attackRecipients(count: rng.int(in: 1...3))
        case .templateRotation, .rotationPerAccountPhone:
            (template, subject) = rotationSubject(account)
            addresses = attackRecipients(count: rng.int(in: 1...3))
        case .trialWelcome:
            (template, subject) = tenantSubject(account, pick: 2)
            addresses = attackRecipients(count: 1)
        case .youngBurst:
            subject = rng.pick(Vocabulary.burstSubjects)
            addresses = attackRecipients(count: rng.int(in: 1...5))
        }

        var unique: [String] = []
        unique.reserveCapacity(addresses.count)
        for a in addresses where !unique.contains(a) { unique.append(a) }
        if source.burst == nil && configuration.scenario.incidents.contains(where: { $0.kind == .heavyDecoyStrangers })
        {
            for a in unique {
                if recentEstablishedRecipients.count < TrafficModel.maxRecentEstablishedRecipients {
                    recentEstablishedRecipients.append(a)
                } else {
                    recentEstablishedRecipients[recentEstablishedNext] = a
                    recentEstablishedNext = (recentEstablishedNext + 1) % TrafficModel.maxRecentEstablishedRecipients
                }
            }
        }

        // One delivery time per recipient domain, as the queue manager hands each domain to a delivery agent.
        var domainTimes: [(String, Int64)] = []
        var deferredAny = false
        var recipients: [SimulatedRecipient] = []
        for address in unique {
            let domain = address.split(separator: "@").last.map(String.init) ?? ""
            let at: Int64
            if let known = domainTimes.first(where: { $0.0 == domain }) {
                at = known.1
            } else {
                at = queued + Int64(rng.int(in: 40_000...1_500_000))
                domainTimes.append((domain, at))
            }
            let u = rng.unit()
            let outcome: SimulatedRecipient.Outcome =
                u < account.bounceRate ? .bounced : (u < account.bounceRate + 0.012 ? .deferred : .sent)
            if outcome == .deferred { deferredAny = true }
            recipients.append(
                SimulatedRecipient(
                    address: address, firstAttempt: EventTime(microseconds: at), outcome: outcome, retries: []))
        }
        if deferredAny {
            let last = recipients.map(\.firstAttempt.microseconds).max() ?? queued
            var retries: [EventTime] = []
            var t = last
            for _ in 0..<(rng.chance(0.8) ? 1 : 2) {
                t += Int64(rng.int(in: 300...1_800)) * 1_000_000 + Int64(rng.int(in: 0...999_999))
                retries.append(EventTime(microseconds: t))
            }
            for i in recipients.indices where recipients[i].outcome == .deferred { recipients[i].retries = retries }
        }

        let senderDomain = account.sender.split(separator: "@").last.map(String.init) ?? "localhost"
        let messageID = makeMessageID(at: accepted, domain: senderDomain)
        return SimulatedMessage(
            connected: EventTime(microseconds: connected), accepted: EventTime(microseconds: accepted),
            queued: EventTime(microseconds: queued), account: account.id, saslUser: account.saslUser,
            sender: account.kind == .tenant ? account.sender : account.sender, accountHeader: account.header,
            accountCreated: account.created, clientIP: account.clientIP, helo: account.helo, port: account.port,
            subject: subject, templateID: template, messageID: messageID, size: size, recipients: recipients)
    }

    /// A concentrated-strangers invitation: one stranger per message, never the same twice, all at the account's
    /// one large provider.
    private mutating func strangerInvitation(_ account: SimAccount, provider: String? = nil) -> (
        String, String, [String]
    ) {
        let provider = provider ?? Vocabulary.consumerDomains[Int(account.key % UInt64(TrafficModel.largeProviders))]
        return invitation(account, to: numberedPerson(hash(84, attackRecipientCounter + 1), domain: provider))
    }

    /// A person's address at `domain` (``personAddress(_:domain:)`` of `h`) whose number is the next value of the
    /// attack recipient counter (trailing digits replaced), so no address made so repeats. `mark` goes before the
    /// number: the `organic-signups` addresses use "." so that none equals a background person's (numbered 0–99,
    /// with no dot before the number) or a stranger's.
    private mutating func numberedPerson(_ h: UInt64, domain: String, mark: String = "") -> String {
        attackRecipientCounter += 1
        let person = TrafficModel.personAddress(h, domain: domain)
        let local = person.prefix { $0 != "@" }
        let name = local.prefix(local.count - local.reversed().prefix { $0.isNumber }.count)
        return "\(name)\(mark)\(attackRecipientCounter)@\(domain)"
    }

    /// A `spread-strangers` account's provider for its next invitation: by a hash of the account, either one of all
    /// the consumer providers for every invitation, or three of them in turn.
    private func spreadProvider(_ account: SimAccount, _ source: Source) -> String {
        let d = Vocabulary.consumerDomains
        let first = Int((account.key >> 16) % UInt64(d.count))
        guard hash(88, account.key) % 2 == 1 else { return d[first] }
        return d[(first + Int(source.sent % 3) * 3) % d.count]
    }

    /// Decoy mails a `decoy-strangers` or `decoy-swarm` account sends (its first messages): one or two, by a
    /// hash of the account.
    static func decoys(_ account: SimAccount) -> Int { 1 + Int((account.key >> 8) % 2) }

    /// An invitation to join the account's team, from a random first name, to `address`: the template, subject
    /// and recipients of a stranger's or a decoy's mail. `address` is made before the name is drawn; making it
    /// draws nothing from `rng`, so the draws are those of writing the name first.
    private mutating func invitation(_ account: SimAccount, to address: String) -> (String, String, [String]) {
        let inviter = TrafficModel.capitalized(rng.pick(Vocabulary.firstNames))
        return ("invite-team", "\(inviter) invited you to join \(account.displayName)", [address])
    }

    /// A decoy recipient: a person at the account's own, freshly registered domain, which nobody established
    /// writes to.
    private func decoyAddress(_ account: SimAccount, _ source: Source) -> String {
        TrafficModel.personAddress(hash(85, account.key, UInt64(source.sent)), domain: account.domain)
    }

    /// A heavy decoy, of one of two kinds by a hash of the account: a person at an established company's domain
    /// (which established senders mail, so a colleague's domain to a rule), or one of the last addresses
    /// established accounts mailed (one the platform mails, mostly at a provider other than the invitations').
    private mutating func heavyDecoyAddress(_ account: SimAccount, _ source: Source) -> String {
        let h = hash(86, account.key, UInt64(source.sent))
        if hash(87, account.key) % 2 == 0 {
            return TrafficModel.personAddress(h, domain: companyDomain(Int((h >> 12) % UInt64(companyCount))))
        }
        guard !recentEstablishedRecipients.isEmpty else {
            return TrafficModel.personAddress(h, domain: companyDomain(Int((h >> 12) % UInt64(companyCount))))
        }
        return recentEstablishedRecipients[Int((h >> 20) % UInt64(recentEstablishedRecipients.count))]
    }

    /// The shared partner mailbox of the `shared-inbox` look-alike, at an established company's domain.
    private var sharedInbox: String { "partners@" + companyDomain(0) }

    private mutating func consumerDomain() -> String { rng.pick(Vocabulary.consumerDomains) }

    /// A template subject for a tenant; `pick` forces a template index, else weighted choice.
    private mutating func tenantSubject(_ account: SimAccount, pick: Int?) -> (String, String) {
        let templates = Vocabulary.templates
        var index = pick ?? -1
        if index < 0 {
            let total = templates.reduce(0) { $0 + $1.weight }
            var r = rng.int(below: total)
            index = 0
            while r >= templates[index].weight {
                r -= templates[index].weight
                index += 1
            }
        }
        let name = TrafficModel.capitalized(rng.pick(Vocabulary.firstNames))
        let inviter = TrafficModel.capitalized(rng.pick(Vocabulary.firstNames))
        var text = templates[index].text
        text = text.replacingSlot("{tenant}", with: account.displayName)
        text = text.replacingSlot("{name}", with: name)
        text = text.replacingSlot("{inviter}", with: inviter)
        text = text.replacingSlot("{n}", with: "INV-\(rng.int(in: 10_000...99_999))")
        return (templates[index].id, text)
    }

    /// A rotating campaign's subject: the account's template, its lure in the template's rotation slot, the
    /// other slots filled as usual.
    private mutating func rotationSubject(_ account: SimAccount) -> (String, String) {
        // Safe to force unwrap: only template-rotation accounts are sent through here, and each has a rotation.
        let (index, lure) = account.rotation!
        let entry = Vocabulary.templates[index]
        let slot = Vocabulary.rotationSlots[index]
        var text = entry.text.replacingSlot(slot, with: lure)
        text = text.replacingSlot("{tenant}", with: account.displayName)
        text = text.replacingSlot("{name}", with: TrafficModel.capitalized(rng.pick(Vocabulary.firstNames)))
        text = text.replacingSlot("{inviter}", with: TrafficModel.capitalized(rng.pick(Vocabulary.firstNames)))
        text = text.replacingSlot("{n}", with: "INV-\(rng.int(in: 10_000...99_999))")
        return (entry.id, text)
    }

    /// Recipients from a person's address book: colleagues and regular correspondents, the first ones most
    /// often.
    private mutating func contacts(_ account: SimAccount, count: Int) -> [String] {
        var out: [String] = []
        for _ in 0..<count {
            let u = rng.unit()
            let j = UInt64(Double(account.audience) * u * u)
            let h = hash(81, account.key, j)
            let domain: String
            if h % 10 < 4 && account.domain != TrafficModel.hostedDomain {
                domain = account.domain
            } else {
                let d = Vocabulary.consumerDomains
                domain =
                    (h >> 8) % 3 == 0
                    ? companyDomain(Int((h >> 12) % UInt64(companyCount))) : d[Int((h >> 12) % UInt64(d.count))]
            }
            out.append(TrafficModel.personAddress(h >> 4 | h << 60, domain: domain))
        }
        return out
    }

    /// The people a new tenant's invitation (after its welcome) goes to, by the look-alike's kind: one to three
    /// colleagues at the tenant's domain; on launch day one or two, 3 in 10 of them at webmail; for the shared
    /// inbox one colleague, and the partner mailbox with the first invitation.
    private mutating func invitees(_ account: SimAccount, _ source: Source) -> [String] {
        var addresses: [String] = []
        if source.burst == .organicSignups {
            // One friend an invitation: 3 in 4 at the individual's own provider, the rest at other webmail.
            let h = hash(75, account.key, UInt64(source.sent))
            let d = Vocabulary.consumerDomains
            let other = d.filter { $0 != account.domain }
            let domain = h % 4 != 0 ? account.domain : other[Int((h >> 8) % UInt64(other.count))]
            return [numberedPerson(h >> 4 | h << 60, domain: domain, mark: ".")]
        }
        let launch = source.burst?.isLaunchDay == true
        guard launch || source.burst == .sharedInbox else {
            let n = rng.int(in: 1...3)
            for k in 0..<n {
                addresses.append(
                    TrafficModel.personAddress(
                        hash(73, account.key, UInt64(source.sent) &* 8 &+ UInt64(k)), domain: account.domain))
            }
            return addresses
        }
        let n = source.burst == .sharedInbox ? 1 : rng.int(in: 1...2)
        for k in 0..<n {
            let h = hash(74, account.key, UInt64(source.sent) &* 8 &+ UInt64(k))
            // Launch day: 7 in 10 invitations go to the tenant's own domain, the rest to webmail (evenly over the
            // providers, or at realistic shares).
            let domain =
                launch && h % 10 >= 7
                ? (source.burst == .launchDayWebmail
                    ? TrafficModel.realisticProvider(h >> 8)
                    : Vocabulary.consumerDomains[Int((h >> 8) % UInt64(Vocabulary.consumerDomains.count))])
                : account.domain
            addresses.append(TrafficModel.personAddress(h >> 4 | h << 60, domain: domain))
        }
        if source.burst == .sharedInbox && source.sent == 1 { addresses.append(sharedInbox) }
        return addresses
    }

    /// A webmail invitee's provider at realistic shares, by a hash: the largest provider (``Vocabulary/consumerDomains``
    /// first) for 4 in 10, the second for 2 in 10, one of the other eight for the rest.
    static func realisticProvider(_ h: UInt64) -> String {
        let d = Vocabulary.consumerDomains
        let r = h % 10
        if r < 4 { return d[0] }
        if r < 6 { return d[1] }
        return d[largeProviders + Int((h >> 8) % UInt64(d.count - largeProviders))]
    }

    /// An `organic-signups` individual's webmail provider, by a hash of the account: the largest provider
    /// (``Vocabulary/consumerDomains`` first) for 9 in 20, the second for 4 in 20, one of the others for the rest.
    static func signupProvider(_ key: UInt64) -> String {
        let d = Vocabulary.consumerDomains
        let r = (key >> 28) % 20
        if r < 9 { return d[0] }
        if r < 13 { return d[1] }
        return d[largeProviders + Int((key >> 36) % UInt64(d.count - largeProviders))]
    }

    /// Recipients among a tenant's users.
    private mutating func tenantRecipients(_ account: SimAccount, count: Int) -> [String] {
        var out: [String] = []
        for _ in 0..<count {
            let j = UInt64(rng.int(below: max(1, account.audience)))
            let h = hash(82, account.key, j)
            let d = Vocabulary.consumerDomains
            let domain =
                h % 4 == 0 ? companyDomain(Int((h >> 12) % UInt64(companyCount))) : d[Int((h >> 12) % UInt64(d.count))]
            out.append(TrafficModel.personAddress(h >> 4 | h << 60, domain: domain))
        }
        return out
    }

    /// Scraped consumer addresses, a new one each time.
    private mutating func attackRecipients(count: Int) -> [String] {
        var out: [String] = []
        for _ in 0..<count {
            attackRecipientCounter += 1
            let h = hash(83, attackRecipientCounter)
            let d = Vocabulary.consumerDomains
            out.append(TrafficModel.personAddress(h, domain: d[Int((h >> 48) % UInt64(d.count))]))
        }
        return out
    }

    /// `YYYYMMDDHHMMSS.NNNNNN.xxxxxxxx@domain`, like the capture's client library writes.
    private mutating func makeMessageID(at micros: Int64, domain: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40 + domain.utf8.count)
        TextBytes.appendCompactDate(micros: micros, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        TextBytes.appendDigits(Int(messageSequence % 1_000_000), width: 6, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        TextBytes.appendHex(rng.next() & 0xFFFF_FFFF, width: 8, to: &bytes)
        bytes.append(UInt8(ascii: "@"))
        bytes.append(contentsOf: domain.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// Replaces each occurrence of `slot` (no Foundation).
    func replacingSlot(_ slot: String, with value: String) -> String {
        guard contains(slot) else { return self }
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: slot) {
            out += rest[..<r.lowerBound]
            out += value
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

private func gcd(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return x
}
