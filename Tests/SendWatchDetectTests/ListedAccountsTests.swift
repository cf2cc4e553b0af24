import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

@testable import SendWatchDetect

@Suite("Listed accounts kept between findings")
struct ListedAccountsTests {
    static func at(_ seconds: Int64) -> EventTime { EventTime(microseconds: seconds * 1_000_000) }

    static func state() -> YoungAccountState {
        var features = FeatureSettings()
        features.recentWindowSeconds = 60
        features.longRecentWindowSeconds = 600
        return YoungAccountState(
            burst: YoungAccountBurstRule.Windows(features), firstEvent: at(0), ageSeconds: 60, ageBasis: .firstSeen)
    }

    /// What ``DetectionContext/accountNames(_:at:)`` lists for `hashes`: the names the table holds, sorted.
    static func oracle(_ hashes: [UInt64], _ young: BoundedKeyTable<YoungAccountState>) -> [String] {
        hashes.compactMap { young.find($0).map { young.name($0) } }.sorted()
    }

    @Test(
        "Updated over random joins, departures and young-table evictions, the list equals a fresh sort",
        arguments: [1, 2, 3, 4])
    func matchesFreshSort(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // A small young table, so that accounts the counter holds get evicted from it and come back.
        var young = BoundedKeyTable<YoungAccountState>(maxEntries: 60, maxBytes: 1 << 30)
        // Mixed cases, lengths and non-ASCII letters, so that String's order (not byte order) decides.
        let names = (0..<120).map { i in ["user\(i)@example.com", "User\(i % 17)-\(i)", "é\(i)", "z\(i)"][i % 4] }
        var counted: [UInt64] = []
        var listed = ListedAccounts()
        // A first-seen table smaller than the accounts, so that accounts are evicted from it and come back
        // younger; accounts seen in the first 30 s are established (no age).
        var ages = AccountAges(configuration: .init(warmupSeconds: 30, maxTrackedAccounts: 50))
        // A log of base changes that updates overrun often (even seeds) or seldom (odd seeds), so that bases are
        // refreshed both from the log and by reading them all.
        ages.baseLog = YoungTouchLog(capacity: seed % 2 == 0 ? 8 : 4_096)
        // A short log, so that some updates find it overrun and refresh every sample.
        var touched = YoungTouchLog(capacity: 24)
        // The previous finding's snapshot and what it listed then: later changes to the list must not reach it.
        var held: (snapshot: ListedSnapshot, names: [String], samples: [AccountSample])?
        for step in 0..<2_000 {
            let name = names[Int(random.next() % UInt64(names.count))]
            let key = StableHash.of(name)
            switch random.next() % 12 {
            case 11:
                // Accounts the counter never holds are first seen: the full first-seen table evicts one entry for
                // each (a listed account's among them), and each may move a listed account's age base.
                for j in 0..<Int(random.next() % 16) {
                    _ = ages.observe(account: "other\(step)-\(j)", created: nil, at: Self.at(Int64(step)))
                }
            case 10:
                // A creation time from the registry (it wins over the first-seen table).
                ages.register(account: name, created: Self.at(Int64(random.next() % 500)))
            case 0..<4:
                // The account sends: the young table holds it (evicting the least recently used when full).
                _ = ages.observe(account: name, created: nil, at: Self.at(Int64(step)))
                let slot =
                    young.find(key) ?? young.insert(key: key, name: name, value: Self.state(), at: Self.at(Int64(step)))
                young.touch(slot, at: Self.at(Int64(step)))
                // It sends to a new recipient, as the engine records it.
                young[slot].samples.addDelivery(recipient: "r\(random.next() % 40)@example.org", queueID: "Q\(step)")
                touched.append(key)
                if !counted.contains(key) { counted.append(key) }
            case 4..<6:
                // An account the counter held expires; sometimes many at once.
                let n = random.next() % 8 == 0 ? counted.count / 2 : 1
                for _ in 0..<min(n, counted.count) {
                    counted.remove(at: Int(random.next() % UInt64(counted.count)))
                }
            case 6:
                // The counter holds an account the young table does not (evicted, or never a young sender).
                if !counted.contains(key) { counted.append(key) }
            case 7:
                young.remove(key)
            default:
                // Many join at once (the first finding of a busy template).
                for _ in 0..<40 {
                    let other = names[Int(random.next() % UInt64(names.count))]
                    let k = StableHash.of(other)
                    _ = ages.observe(account: other, created: nil, at: Self.at(Int64(step)))
                    if young.find(k) == nil {
                        young.insert(key: k, name: other, value: Self.state(), at: Self.at(Int64(step)))
                        // The engine notes every account whose young-table entry it creates or changes.
                        touched.append(k)
                    }
                    if !counted.contains(k) { counted.append(k) }
                }
            }
            guard random.next() % 3 == 0 else { continue }
            // Sometimes the union of two counters' samples, as `concentrated_strangers` lists its template's
            // stranger-mailers and its waves' members: keys of the first repeat in the second, each listed once.
            var hashes = counted
            if random.next() % 2 == 0 {
                hashes += counted.filter { _ in random.next() % 3 == 0 } + [StableHash.of("never\(step)")]
            }
            listed.update(to: hashes, young: young, ages: ages, touched: touched)
            #expect(listed.indexIsConsistent, "seed \(seed) step \(step)")
            let expected = Self.oracle(counted, young)
            #expect(listed.names == expected, "seed \(seed) step \(step)")
            // The ages as the finding gave them before the list kept their bases: a lookup and a sort each.
            let now = Self.at(Int64(step + Int(random.next() % 100_000)))
            let sortedAges = expected.compactMap { ages.peek(account: $0, at: now)?.ageSeconds }.sorted()
            #expect(
                JSONValue.object(listed.ageEvidence(at: now))
                    == JSONValue.object(DetectionContext.ageEvidence(sortedAges: sortedAges)),
                "seed \(seed) step \(step)")
            #expect(listed.keys == expected.map { StableHash.of($0) }, "seed \(seed) step \(step)")
            if let held {
                #expect(held.snapshot.names == held.names, "seed \(seed) step \(step)")
                #expect(held.snapshot.samples.listed == held.samples, "seed \(seed) step \(step)")
            }
            let snapshot = listed.snapshot(accountsTotal: counted.count)
            // The samples the finding took before the list kept them: a lookup per name.
            let samples = expected.map { young[young.find(StableHash.of($0))!].samples }
            #expect(snapshot.names == expected, "seed \(seed) step \(step)")
            #expect(snapshot.samples.listed == samples, "seed \(seed) step \(step)")
            #expect(snapshot.samples.listsEveryAccount == (counted.count <= expected.count))
            // A finding that lists only the first accounts shares the chunks before the one it ends in.
            let limit = Int(random.next() % UInt64(expected.count + 3))
            let shown = min(limit, expected.count)
            let prefix = listed.snapshot(accountsTotal: counted.count, limit: limit)
            #expect(prefix.names == Array(expected.prefix(limit)), "seed \(seed) step \(step)")
            #expect(prefix.samples.listed == Array(samples.prefix(limit)), "seed \(seed) step \(step)")
            #expect(prefix.samples.listsEveryAccount == (counted.count <= shown))
            held =
                random.next() % 2 == 0
                ? (snapshot, expected, samples) : (prefix, Array(expected.prefix(limit)), Array(samples.prefix(limit)))
        }
    }

    @Test("A prefix of a chunked list holds its first elements, and later changes to the list do not reach it")
    func sharedChunksPrefix() {
        var random = SplitMix64(seed: 7)
        var list = SharedChunks<Int>()
        var mirror: [Int] = []
        // Inserted at random places, so that chunks split and end at uneven positions.
        for v in 0..<300 {
            let at = Int(random.next() % UInt64(mirror.count + 1))
            list.insert(v, at: at)
            mirror.insert(v, at: at)
        }
        for n in [0, 1, 31, 32, 33, 63, 64, 65, 150, 299, 300] {
            var prefix = list.prefix(n)
            #expect(prefix.count == n && prefix.all == Array(mirror.prefix(n)), "prefix \(n)")
            var changed = list
            changed[0] = -1
            changed.insert(-2, at: max(0, n - 1))
            #expect(prefix.all == Array(mirror.prefix(n)), "prefix \(n) after the list changed")
            prefix.insert(-3, at: n)
            #expect(prefix.all == Array(mirror.prefix(n)) + [-3], "prefix \(n) extended")
            #expect(list.all == mirror, "list after prefix \(n) changed")
        }
    }

    @Test("At its bound the cache keeps every subject; one more drops only the least recently used")
    func cacheAtItsBound() {
        var young = BoundedKeyTable<YoungAccountState>(maxEntries: 100, maxBytes: 1 << 30)
        for i in 0..<4 {
            young.insert(key: StableHash.of("a\(i)"), name: "a\(i)", value: Self.state(), at: Self.at(0))
        }
        let hashes = (0..<4).map { StableHash.of("a\($0)") }
        var cache = ListedAccountsCache()
        let bound = ListedAccountsCache.maxLists
        #expect(bound == 64)
        for s in 0..<bound {
            _ = cache.update(UInt64(s), to: hashes, young: young, ages: AccountAges(), touched: YoungTouchLog())
        }
        #expect(cache.count == bound)
        #expect((0..<bound).allSatisfy { cache.holds(UInt64($0)) })
        // Subject 0 used again: subject 1 is now the least recently used, and the one a new subject replaces.
        _ = cache.update(0, to: hashes, young: young, ages: AccountAges(), touched: YoungTouchLog())
        let list = cache.update(UInt64(bound), to: hashes, young: young, ages: AccountAges(), touched: YoungTouchLog())
        #expect(list.names == Self.oracle(hashes, young))
        #expect(cache.count == bound)
        #expect(cache.holds(0) && cache.holds(UInt64(bound)) && !cache.holds(1))
        #expect((2..<bound).allSatisfy { cache.holds(UInt64($0)) })
    }

    @Test("The cache keeps one list per subject and drops the least recently used beyond its bound")
    func cacheKeepsListsPerSubject() {
        var young = BoundedKeyTable<YoungAccountState>(maxEntries: 100, maxBytes: 1 << 30)
        for i in 0..<20 {
            young.insert(key: StableHash.of("a\(i)"), name: "a\(i)", value: Self.state(), at: Self.at(0))
        }
        var cache = ListedAccountsCache()
        let subjects = ListedAccountsCache.maxLists + 3
        for round in 0..<3 {
            for s in 0..<subjects {
                let hashes = (0..<(s + round) % 20).map { StableHash.of("a\($0)") }
                let list = cache.update(
                    UInt64(s), to: hashes, young: young, ages: AccountAges(), touched: YoungTouchLog())
                #expect(list.names == Self.oracle(hashes, young), "subject \(s) round \(round)")
            }
        }
    }
}
