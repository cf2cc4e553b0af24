import SendWatchCore
import Testing

@testable import SendWatchDetect

/// Incident linking trusts each alert's derived ``AccountKeys`` to say which alerts cannot list an account, and
/// the index of the open and remembered alerts by account key and artefact to name every alert that may; a key
/// list or an index that drifted from the alerts' accounts (an update, a relabelled incident, a close, a
/// forgotten alert or a restore that forgot to derive them again) would silently stop alerts from linking. These
/// runs check both after every step.
@Suite struct AlertLifecycleAccountKeysTests {
    /// The distinct stable hashes of `accounts`, ascending: what ``AccountKeys`` must hold.
    static func expectedKeys(_ accounts: [String]) -> [UInt64] { Set(accounts.map { StableHash.of($0) }).sorted() }

    /// Checks every open and remembered alert's keys against its accounts; the number of open alerts checked.
    @discardableResult
    static func checkKeys(_ lifecycle: AlertLifecycle, step: Int) -> Int {
        var pairs = (accounts: 0, artefacts: 0)
        for (slot, alert) in lifecycle.open {
            #expect(
                alert.accountKeys.sorted == expectedKeys(alert.last.accounts),
                "open alert \(slot) at step \(step): keys differ from its accounts")
            for key in alert.accountKeys.sorted {
                #expect(
                    lifecycle.open.slots(listing: AccountKeys(keys: [key])).contains(slot),
                    "open alert \(slot) at step \(step): the index misses one of its accounts")
            }
            for artefact in alert.artefacts {
                #expect(
                    lifecycle.open.slots(listing: AccountKeys([]), naming: [artefact]).contains(slot),
                    "open alert \(slot) at step \(step): the index misses one of its artefacts")
            }
            pairs.accounts += alert.accountKeys.sorted.count
            pairs.artefacts += alert.artefacts.count
        }
        #expect(lifecycle.open.indexedPairs == pairs, "step \(step): the open alerts' index holds stale pairs")
        pairs = (0, 0)
        for closed in lifecycle.closed {
            #expect(
                closed.accountKeys.sorted == expectedKeys(closed.accounts),
                "remembered alert at step \(step): keys differ from its accounts")
            var found = false
            lifecycle.closed.forEachCandidate(listing: closed.accountKeys, naming: closed.artefacts) {
                if $0.closedAt == closed.closedAt && $0.accounts == closed.accounts { found = true }
            }
            #expect(
                closed.accounts.isEmpty && closed.artefacts.isEmpty || found,
                "remembered alert at step \(step): the index misses it")
            pairs.accounts += closed.accountKeys.sorted.count
            pairs.artefacts += closed.artefacts.count
        }
        #expect(lifecycle.closed.indexedPairs == pairs, "step \(step): the remembered alerts' index holds stale pairs")
        return lifecycle.open.count
    }

    @Test("After a long run with restores every open alert's account keys are the sorted hashes of its accounts")
    func keysFollowAccounts() throws {
        // A small account pool and few keys, so that alerts grow, share accounts (merging incidents), close
        // and open again; small bounds so that the open table fills and closes alerts early.
        let configuration = AlertLifecycle.Configuration(
            cooldownSeconds: 300, minUpdateIntervalSeconds: 60, growthFactor: 1.5, maxOpenAlerts: 24,
            incidentMemorySeconds: 900)
        var lifecycle = AlertLifecycle(configuration: configuration)
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((random >> 33) % UInt64(bound))
        }
        let kinds = [TemplateSwarmRule.name, SlotContentRule.name, SharedArtefactRule.name, AccountRateRule.name]
        var now: Int64 = 1_000
        var restores = 0
        var mostOpen = 0
        for step in 0..<4_000 {
            now += Int64(next(40))
            var f = Finding(
                kind: kinds[next(kinds.count)], key: "k\(next(40))", severity: .medium, score: 1,
                firstEventTime: EventTime(seconds: now - 10), accounts: [], accountsTotal: 0, volume: 1 + next(500),
                template: nil, evidence: [], reasons: ["r"])
            f.accounts = (0..<(1 + next(8))).map { _ in "acct-\(next(60))" }
            f.accountsTotal = f.accounts.count + next(20)
            if next(4) == 0 { f.artefacts = [StableHash.of("phone:\(next(10))")] }
            _ = lifecycle.take(f, at: EventTime(seconds: now))
            if next(10) == 0 { _ = lifecycle.emitHeld(at: EventTime(seconds: now)) }
            if next(15) == 0 { _ = lifecycle.advance(to: EventTime(seconds: now)) }
            if step % 97 == 96 {
                let bytes = try StateCoding.encode(lifecycle.checkpoint())
                let saved = try StateCoding.decode(AlertLifecycle.Checkpoint.self, from: bytes)
                lifecycle = try AlertLifecycle(configuration: configuration, restoring: saved)
                restores += 1
            }
            mostOpen = max(mostOpen, Self.checkKeys(lifecycle, step: step))
        }
        #expect(restores >= 40)
        #expect(mostOpen == configuration.maxOpenAlerts)
        #expect(lifecycle.closedEarly > 0)
        #expect(!lifecycle.incidents.isEmpty)
    }
}
