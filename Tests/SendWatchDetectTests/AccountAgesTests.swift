import SendWatchCore
import SendWatchDetect
import Testing

@Suite struct AccountAgesTests {
    let hour: Int64 = 3600
    let day: Int64 = 86_400

    @Test("Accounts first seen in the warm-up are established; later ones are young until the new-account age")
    func warmup() {
        var ages = AccountAges()
        let t0: Int64 = 1_800_000_000
        #expect(ages.observe(account: "old", created: nil, at: EventTime(seconds: t0)).basis == .warmup)
        #expect(!ages.observe(account: "old2", created: nil, at: EventTime(seconds: t0 + hour - 1)).isYoung)
        let new = ages.observe(account: "new", created: nil, at: EventTime(seconds: t0 + hour))
        #expect(new == AccountAge(isYoung: true, ageSeconds: 0, basis: .firstSeen))
        let later = ages.observe(account: "new", created: nil, at: EventTime(seconds: t0 + hour + 6 * day))
        #expect(later == AccountAge(isYoung: true, ageSeconds: 6 * day, basis: .firstSeen))
        #expect(!ages.observe(account: "new", created: nil, at: EventTime(seconds: t0 + hour + 7 * day)).isYoung)
        #expect(!ages.observe(account: "old", created: nil, at: EventTime(seconds: t0 + 30 * day)).isYoung)
        #expect(ages._checkInvariants())
    }

    @Test("A creation time in the event or the registry wins over first-seen, even during the warm-up")
    func created() {
        var ages = AccountAges()
        let t0: Int64 = 1_800_000_000
        ages.register(account: "reg", created: EventTime(seconds: t0 - 2 * day))
        let r = ages.observe(account: "reg", created: nil, at: EventTime(seconds: t0))
        #expect(r == AccountAge(isYoung: true, ageSeconds: 2 * day, basis: .created))
        let e = ages.observe(account: "x", created: EventTime(seconds: t0 - 30 * day), at: EventTime(seconds: t0 + 1))
        #expect(e == AccountAge(isYoung: false, ageSeconds: 30 * day + 1, basis: .created))
        let future = ages.observe(account: "y", created: EventTime(seconds: t0 + day), at: EventTime(seconds: t0 + 2))
        #expect(future.ageSeconds == 0 && future.isYoung)
    }

    @Test("At the bound, evicted established accounts are remembered and evicted young ones start over")
    func eviction() {
        var ages = AccountAges(
            configuration: .init(warmupSeconds: 10, newAccountAgeSeconds: 100, maxTrackedAccounts: 64))
        let t0: Int64 = 1_000_000
        for i in 0..<32 {
            _ = ages.observe(account: "warm\(i)", created: nil, at: EventTime(seconds: t0 + Int64(i % 5)))
        }
        for i in 0..<2000 {
            _ = ages.observe(account: "acct\(i)", created: nil, at: EventTime(seconds: t0 + 20 + Int64(i)))
            #expect(ages.tracked <= 64)
        }
        #expect(ages.evictions >= 2000 + 32 - 64)
        #expect(ages._checkInvariants())
        for i in 0..<32 {
            let a = ages.observe(account: "warm\(i)", created: nil, at: EventTime(seconds: t0 + 5000))
            #expect(!a.isYoung, "established account warm\(i) came back as young")
        }
        // An account evicted while young comes back young, aged from its return.
        let back = ages.observe(account: "acct1990", created: nil, at: EventTime(seconds: t0 + 2015))
        #expect(back.isYoung)
    }

    @Test("The filter of remembered accounts is allocated when the first established account is evicted")
    func filterAllocatedAtFirstEviction() throws {
        let configuration = AccountAges.Configuration(
            warmupSeconds: 10, newAccountAgeSeconds: 100, maxTrackedAccounts: 64)
        var ages = AccountAges(configuration: configuration)
        let t0: Int64 = 1_000_000
        for i in 0..<64 { _ = ages.observe(account: "warm\(i)", created: nil, at: EventTime(seconds: t0)) }
        #expect(!ages._filterAllocated)
        let restored = try AccountAges(configuration: configuration, restoring: ages.checkpoint())
        #expect(!restored._filterAllocated)
        _ = ages.observe(account: "new", created: nil, at: EventTime(seconds: t0 + 20))
        #expect(ages.evictions == 1 && ages._filterAllocated)
        let again = try AccountAges(configuration: configuration, restoring: ages.checkpoint())
        #expect(again._filterAllocated)
        var remembered = 0
        for i in 0..<64 where again.peek(account: "warm\(i)", at: EventTime(seconds: t0 + 30))?.basis == .remembered {
            remembered += 1
        }
        #expect(remembered >= 1)
    }

    @Test("The table starts small and doubles as accounts arrive, keeping every age, up to the bound")
    func growth() {
        let configuration = AccountAges.Configuration(
            warmupSeconds: 10, newAccountAgeSeconds: 1_000_000, maxTrackedAccounts: 10_000)
        var ages = AccountAges(configuration: configuration)
        let t0: Int64 = 1_000_000
        #expect(ages._slotCount == 1024)
        _ = ages.observe(account: "warm", created: nil, at: EventTime(seconds: t0))
        var sizes: [Int] = []
        for i in 0..<10_000 {
            _ = ages.observe(account: "acct\(i)", created: nil, at: EventTime(seconds: t0 + 20 + Int64(i)))
            if sizes.last != ages._slotCount {
                sizes.append(ages._slotCount)
                #expect(ages._checkInvariants())
            }
        }
        // Doubled whenever it would pass half full, up to the power of two at least twice the bound.
        #expect(sizes == [1024, 2048, 4096, 8192, 16384, 32768])
        #expect(ages.evictions == 1 && ages.tracked == 10_000)
        let now = EventTime(seconds: t0 + 50_000)
        var kept = 0
        for i in 0..<10_000 {
            guard let a = ages.peek(account: "acct\(i)", at: now) else { continue }
            kept += 1
            #expect(a == AccountAge(isYoung: true, ageSeconds: 50_000 - 20 - Int64(i), basis: .firstSeen))
        }
        #expect(kept == 9_999)
        // At the bound the table stays as it is and evicts.
        for i in 0..<2_000 {
            _ = ages.observe(account: "more\(i)", created: nil, at: EventTime(seconds: t0 + 60_000 + Int64(i)))
        }
        #expect(ages._slotCount == 32768 && ages.tracked == 10_000 && ages.evictions == 2_001)
        #expect(ages._checkInvariants())
    }

    @Test("Random operations keep the table consistent with a model")
    func model() {
        var ages = AccountAges(
            configuration: .init(warmupSeconds: 0, newAccountAgeSeconds: 1_000_000, maxTrackedAccounts: 200))
        var rng: UInt64 = 42
        var t: Int64 = 1_000
        for _ in 0..<20_000 {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1
            let id = Int(rng >> 40) % 500
            t += 1
            let a = ages.observe(account: "a\(id)", created: nil, at: EventTime(seconds: t))
            #expect(a.basis == .firstSeen)
            #expect(a.ageSeconds! >= 0)
            if let p = ages.peek(account: "a\(id)", at: EventTime(seconds: t)) { #expect(p == a) }
        }
        #expect(ages._checkInvariants())
    }
}
