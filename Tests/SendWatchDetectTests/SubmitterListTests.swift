import Foundation
import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

@testable import SendWatchDetect

@Suite("Submitter evidence lists")
struct SubmitterListTests {
    @Test("The k smallest values equal the sorted set's first k, for sets of 0 to 40 values", arguments: [0, 1, 3, 10])
    func smallestEqualsSortedPrefix(k: Int) {
        var generator = SystemRandomNumberGenerator()
        for n in 0...40 {
            // Mixed lengths, cases and non-ASCII text, so that String's ordering (not byte order) decides.
            let values = Set(
                (0..<n).map { i in
                    [
                        "acct-\(i)", "Acct-\(i * 7 % 13)", "é-\(i % 5)",
                        "\(UInt32.random(in: 0...99, using: &generator))",
                    ][
                        i % 4]
                })
            #expect(DetectionContext.smallest(k, of: Array(values)) == Array(values.sorted().prefix(k)), "n \(n)")
        }
    }

    /// The values' UTF-8 bytes, to tell apart spellings that `String` finds equal.
    static func utf8(_ values: [String]) -> [[UInt8]] { values.map { Array($0.utf8) } }

    @Test(
        "The k smallest values are in byte order whatever order they come in, also where String's order is not",
        arguments: [1, 2, 3])
    func smallestDoesNotDependOnInputOrder(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // The Kelvin sign equals `K` but `String` sorts it after `KK`: insertion by `String` order gave a list that
        // depended on the order of the values (which came from a set of strings, so on the hash seed).
        let parts = ["K", "\u{212A}", "a", "\u{E9}", "e\u{301}", "\u{301}", "L"]
        for round in 0..<500 {
            var seen = Set<String>()
            var values: [String] = []
            for _ in 0..<Int(random.next() % 12) {
                let v = (0...(random.next() % 3)).map { _ in parts[Int(random.next() % UInt64(parts.count))] }.joined()
                if seen.insert(v).inserted { values.append(v) }
            }
            let bytes = values.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
            for k in [1, 3, 10] {
                let expected = Array(bytes.prefix(k))
                #expect(Self.utf8(DetectionContext.smallest(k, of: values)) == expected, "round \(round) k \(k)")
                #expect(
                    Self.utf8(DetectionContext.smallest(k, of: values.reversed())) == expected,
                    "round \(round) k \(k) reversed")
            }
        }
    }

    @Test("Of two spellings String finds equal, a list keeps the first its accounts hold, in byte order")
    func equalSpellingsKeepTheFirstMet() {
        let decomposed = "e\u{301}x"
        let precomposed = "\u{E9}x"
        let kelvin = "\u{212A}"
        func sample(_ logins: [String]) -> AccountSample {
            var sample = AccountSample()
            for login in logins { sample.addSubmitter(login: login, clientIP: nil, claimedAccount: nil) }
            return sample
        }
        func logins(_ samples: [AccountSample]) -> ([[UInt8]], JSONValue?) {
            let evidence = DetectionContext.accountEvidence(AccountSamples(listed: samples, listsEveryAccount: true))
            guard case .object(let submitters)? = evidence.first(where: { $0.0 == "submitters" })?.1,
                case .array(let list)? = submitters.first(where: { $0.0 == "logins" })?.1
            else { return ([], nil) }
            let strings = list.compactMap { value -> String? in
                if case .string(let s) = value { return s }
                return nil
            }
            return (Self.utf8(strings), submitters.first(where: { $0.0 == "logins_total" })?.1)
        }
        let first = sample([decomposed, kelvin])
        let second = sample(["KK", precomposed, "K"])
        #expect(logins([first, second]) == (Self.utf8(["KK", decomposed, kelvin]), .int(3)))
        #expect(logins([second, first]) == (Self.utf8(["K", "KK", precomposed]), .int(3)))
        // Within one account, its own order decides.
        #expect(logins([sample([precomposed, decomposed, "K", kelvin])]) == (Self.utf8(["K", precomposed]), .int(2)))
        #expect(
            logins([sample([decomposed, precomposed, kelvin, "K"])]) == (Self.utf8([decomposed, kelvin]), .int(2)))
    }

    @Test("Distinct ASCII values as bytes count and order as a set of strings does", arguments: [1, 2, 3])
    func distinctBytesMatchStringSet(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for round in 0..<200 {
            var distinct = DistinctASCIIValues()
            var strings = Set<String>()
            // Prefixes of one another, empty values, long values and repeats, so that length and byte order decide.
            for _ in 0..<Int(random.next() % 300) {
                let n = Int(random.next() % 40)
                let value = String(repeating: "ab", count: Int(random.next() % 12)) + (n % 3 == 0 ? "" : "~\(n)")
                let cut = Int(random.next() % UInt64(value.utf8.count + 1))
                let utf8 = Array(value.utf8)
                utf8.withUnsafeBufferPointer { b in
                    distinct.insert(UnsafeBufferPointer(rebasing: b[..<cut]), UnsafeBufferPointer(rebasing: b[cut...]))
                }
                strings.insert(value)
            }
            #expect(distinct.count == strings.count, "seed \(seed) round \(round)")
            for k in [0, 1, 10, 400] {
                #expect(distinct.smallest(k) == Array(strings.sorted().prefix(k)), "seed \(seed) round \(round) k \(k)")
            }
        }
    }

    /// ``DetectionContext/accountEvidence(_:)`` as it was built before ``DistinctASCIIValues``: a set of strings per
    /// list and its smallest values in `String` order.
    static func referenceEvidence(_ samples: AccountSamples) -> JSONValue {
        let groups: [(String, [(AccountSample.List, String)])] = [
            ("submitters", [(.logins, "logins"), (.clientIPs, "client_ips"), (.claimedAccounts, "claimed_accounts")]),
            (
                "deliveries",
                [(.recipients, "recipients"), (.recipientDomains, "recipient_domains"), (.queueIDs, "queue_ids")]
            ),
        ]
        return .object(
            groups.map { entry in
                let (group, lists) = entry
                var entries: [(String, JSONValue)] = []
                for (list, name) in lists {
                    var values = Set<String>()
                    for sample in samples.listed { values.formUnion(sample.values(list)) }
                    entries.append((name, .array(values.sorted().prefix(10).map { .string($0) })))
                    entries.append((name + "_total", .int(values.count)))
                }
                let overflowed = samples.listed.contains {
                    group == "submitters" ? $0.submittersOverflowed : $0.deliveriesOverflowed
                }
                entries.append(("exact", .bool(samples.listsEveryAccount && !overflowed)))
                return (group, JSONValue.object(entries))
            })
    }

    @Test(
        "The evidence of listed accounts equals sets of strings, also with values outside ASCII", arguments: [1, 2, 3])
    func accountEvidenceMatchesStringSets(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        // ASCII values that share prefixes, and values outside ASCII (which take the path of strings). Only
        // precomposed ones, for which byte order is `String` order: where `String` finds two spellings equal (a
        // decomposed `é`, the Kelvin sign and `K`), the list keeps the first met and orders by bytes, which a set of
        // strings does not (`equalSpellingsKeepTheFirstMet`, `smallestDoesNotDependOnInputOrder`).
        let words = ["K", "k", "é", "ü", "user", "User", "user1", "192.0.2.1", "a", "ab", "b"]
        func value() -> String {
            (0..<Int(1 + random.next() % 3)).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined()
        }
        for round in 0..<300 {
            // Every other round ASCII only (the byte path), else some values outside ASCII (the string path).
            let ascii = round % 2 == 0
            func pick() -> String {
                var v = value()
                while ascii && !v.utf8.allSatisfy({ $0 < 0x80 }) { v = value() }
                return v
            }
            var samples = AccountSamples(listsEveryAccount: random.next() % 2 == 0)
            for _ in 0..<Int(random.next() % 30) {
                var sample = AccountSample()
                for _ in 0..<Int(random.next() % 8) {
                    sample.addSubmitter(
                        login: pick(), clientIP: random.next() % 2 == 0 ? pick() : nil,
                        claimedAccount: random.next() % 4 == 0 ? pick() : nil)
                    sample.addDelivery(recipient: pick() + "@" + pick(), queueID: random.next() % 2 == 0 ? pick() : nil)
                    sample.addMessageID(pick())
                }
                samples.listed.append(sample)
            }
            #expect(
                JSONValue.object(DetectionContext.accountEvidence(samples)) == Self.referenceEvidence(samples),
                "seed \(seed) round \(round)")
        }
    }

    static func at(_ seconds: Int64) -> EventTime { EventTime(microseconds: seconds * 1_000_000) }

    /// Puts a young account with one login, client address, recipient and queue id into the engine's table.
    static func put(_ name: String, into engine: inout DetectionEngine) {
        var features = FeatureSettings()
        features.recentWindowSeconds = 60
        features.longRecentWindowSeconds = 600
        var state = YoungAccountState(
            burst: YoungAccountBurstRule.Windows(features), firstEvent: at(0), ageSeconds: 60, ageBasis: .firstSeen)
        state.samples.addSubmitter(login: "login-\(name)", clientIP: "192.0.2.\(name.utf8.count)", claimedAccount: nil)
        state.samples.addDelivery(recipient: "victim-\(name)@\(name).test", queueID: "Q\(name)")
        engine.context.tables.young.insert(key: StableHash.of(name), name: name, value: state, at: at(0))
    }

    static func finding(_ accounts: [String]) -> Finding {
        Finding(
            kind: RuleName("template_swarm"), key: "t1", severity: .medium, score: 1, firstEventTime: at(0),
            accounts: accounts, accountsTotal: accounts.count, volume: accounts.count, template: nil,
            evidence: [("state", .object([("evicted_keys", .int(0))]))], reasons: [])
    }

    /// The `submitters` and `deliveries` entries of an evidence list, as one JSON object.
    static func accountEntries(_ evidence: [(String, JSONValue)]) -> JSONValue {
        .object(evidence.filter { $0.0 == "submitters" || $0.0 == "deliveries" })
    }

    @Test(
        "A held record lists what its accounts had sent at its finding, as evidence built then does, also restored"
    )
    func heldRecordKeepsItsFindingsSamples() throws {
        var engine = DetectionEngine()
        for name in ["a", "b"] { Self.put(name, into: &engine) }
        var alerts: [Alert] = []
        engine.context.take(Self.finding(["a", "b"]), at: Self.at(10), into: &alerts)
        #expect(alerts.map(\.action) == [.create])
        #expect(alerts.first?.evidence.map(\.0) == ["submitters", "deliveries", "state"])

        // Three accounts a minute later: less than twice the create's two, and before the update interval, so held.
        Self.put("c", into: &engine)
        engine.context.take(Self.finding(["a", "b", "c"]), at: Self.at(70), into: &alerts)
        #expect(alerts.count == 1)
        let atFinding = DetectionContext.accountEvidence(
            engine.context.accountSamples(["a", "b", "c"], accountsTotal: 3))

        // Before the held record is written, `a` logs in from a new address, `c` mails a new recipient and `b`
        // leaves the table.
        let a = try #require(engine.context.tables.young.find(StableHash.of("a")))
        engine.context.tables.young[a].samples.addSubmitter(
            login: "login-a2", clientIP: "198.51.100.7", claimedAccount: nil)
        let c = try #require(engine.context.tables.young.find(StableHash.of("c")))
        engine.context.tables.young[c].samples.addDelivery(recipient: "late@later.test", queueID: "Qlate")
        engine.context.tables.young.remove(StableHash.of("b"))
        let rebuiltNow = DetectionContext.accountEvidence(
            engine.context.accountSamples(["a", "b", "c"], accountsTotal: 3))
        #expect(Self.accountEntries(rebuiltNow) != Self.accountEntries(atFinding))

        let saved = try JSONEncoder().encode(engine.context.lifecycle.checkpoint())
        var restored = try AlertLifecycle(
            configuration: engine.context.lifecycle.configuration,
            restoring: try JSONDecoder().decode(AlertLifecycle.Checkpoint.self, from: saved))

        let held = engine.context.lifecycle.emitHeld(at: Self.at(700))
        #expect(held.map(\.action) == [.update])
        let record = try #require(held.first)
        #expect(Self.accountEntries(record.evidence) == Self.accountEntries(atFinding))
        #expect(record.evidence.map(\.0) == ["submitters", "deliveries", "state"])
        #expect(restored.emitHeld(at: Self.at(700)) == held)
    }
}
