import SendWatchCore
import SendWatchDetect
import SendWatchPipeline
import SendWatchTesting
import Testing

/// The order the per-host event-time merge gives the engine, characterised by data each event carries.
///
/// Each host's events are in its log order, not in time order. The merge (``EventTimeMerge``, `replay`'s rule for
/// separate logs) always takes the earliest head, on equal times the host whose name sorts first. Claim: its output
/// is exactly the events sorted by (**key**, host name, position in the host's log), where an event's key is the
/// greatest time of that event and every earlier event of its own host (its host's running maximum). So the order
/// between any two events, also of one account on two hosts, is decided by the two events alone once each carries
/// its key, whatever the other accounts' events are (docs/fleet.md, "First-seen ages per partition").
///
/// Proof (every pair): let p (host a) come out before q (host b ≠ a), and m the event of a at or before p whose time
/// is p's key. When m was taken, b's head f (at or before q, since q comes out after p, so after m) did not go
/// first: t(f) > key(p), or t(f) = key(p) and a's name sorts before b's. key(q) ≥ t(f), so key(q) > key(p), or
/// key(q) ≥ key(p) with a before b: in both cases (key(p), a) ≤ (key(q), b), and on equal keys a sorts first. On one
/// host the log order is the key order (a running maximum does not decrease). So each pair is in sort order.
@Suite
struct MergeOrderKeyTests {
    /// One host's log: event times in seconds, in log order, and each event's account.
    struct HostLog {
        var name: String
        var times: [Int64]
        var accounts: [String]
    }

    /// An event with its place: host name, position in the host's log, key (the host's running maximum).
    struct Placed {
        var event: SendEvent
        var host: String
        var position: Int
        var key: Int64
        var id: String { "\(host)#\(position)" }
    }

    /// Random logs: 1-5 hosts (names in random order of creation), 0-30 events each, times drawn from a narrow range
    /// so that equal times within a host and across hosts are common, and each host's log is out of time order.
    static func randomLogs(_ random: inout SplitMix64) -> [HostLog] {
        let names = ["mx3", "mx1", "relay", "a", "mx2"].shuffled(using: &random)
        let hosts = 1 + random.below(5)
        let spread = Int64(2 + random.below(10))
        let accounts = 1 + random.below(8)
        return (0..<hosts).map { h in
            let count = random.below(31)
            var base: Int64 = 1_000
            var times: [Int64] = []
            for _ in 0..<count {
                // A slowly rising clock with events stamped up to `spread` seconds before it (logged late).
                base += Int64(random.below(3))
                times.append(base - Int64(random.below(Int(spread) + 1)))
            }
            return HostLog(
                name: names[h], times: times, accounts: (0..<count).map { _ in "acct\(random.below(accounts))" })
        }
    }

    static func placed(_ logs: [HostLog]) -> [Placed] {
        logs.flatMap { log in
            var running = Int64.min
            return log.times.indices.map { i in
                running = max(running, log.times[i])
                let e = SendEvent(
                    time: EventTime(seconds: log.times[i]), host: log.name, account: log.accounts[i],
                    accountSource: .authenticated, sender: "s@example.org", recipient: "\(log.name)#\(i)",
                    status: .sent)
                return Placed(event: e, host: log.name, position: i, key: running)
            }
        }
    }

    /// The events in the order the merge gives them: each host's events arrive in its log order, interleaved at
    /// random with the others; once every host has sent its first event, each arrival is followed by a release
    /// (every host's next event is known, as with `detect --hosts N`), and the end of input releases the rest.
    static func merged(_ logs: [HostLog], _ random: inout SplitMix64) -> [String] {
        var merge = EventTimeMerge(maxBuffered: 1_000_000)
        var out: EventBatch = []
        var next = logs.map { _ in 0 }
        let all = placed(logs)
        let live = logs.indices.filter { !logs[$0].times.isEmpty }
        var seen = Set<Int>()
        var sequence: UInt64 = 0
        while true {
            let waiting = live.filter { next[$0] < logs[$0].times.count }
            guard !waiting.isEmpty else { break }
            let h = random.pick(waiting)
            let p = all.first { $0.host == logs[h].name && $0.position == next[h] }!
            next[h] += 1
            sequence += 1
            merge.add(p.event, sequence: sequence, releasingInto: &out)
            seen.insert(h)
            if seen.count == live.count { merge.release(into: &out) }
        }
        merge.releaseAll(into: &out)
        return out.map { "\($0.host!)#\($0.recipient.split(separator: "#")[1])" }
    }

    static func sortedByKey(_ events: [Placed]) -> [Placed] {
        events.sorted { ($0.key, $0.host, $0.position) < ($1.key, $1.host, $1.position) }
    }

    @Test("The merge's order is the sort by (host's running maximum, host name, position), on 3,000 random logs")
    func mergeOrderIsKeyOrder() {
        var random = SplitMix64(seed: 15)
        var differFromTimeSort = 0
        for trial in 0..<3_000 {
            let logs = Self.randomLogs(&random)
            let all = Self.placed(logs)
            let merged = Self.merged(logs, &random)
            let byKey = Self.sortedByKey(all).map(\.id)
            #expect(merged == byKey, "trial \(trial): \(logs.map { "\($0.name): \($0.times)" })")
            let byTime = all.sorted {
                ($0.event.time.microseconds, $0.host, $0.position) < ($1.event.time.microseconds, $1.host, $1.position)
            }
            if byTime.map(\.id) != merged { differFromTimeSort += 1 }
            // The stream's running maximum after an event (what the engine's watermark becomes, without time
            // outliers) is that event's own key: its host's running maximum.
            let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
            var watermark = Int64.min
            for id in merged {
                let p = byID[id]!
                watermark = max(watermark, p.event.time.seconds)
                #expect(watermark == p.key, "trial \(trial): the watermark after \(id)")
            }
        }
        // The logs are out of time order often enough that a sort by the event's own time is not the merge's order.
        #expect(differFromTimeSort > 2_500)  // 2,917 of the 3,000 with this seed
    }

    /// The engine's account ages for the merged events, as ``DetectionEngine`` computes them: events more than
    /// `lateness` behind the newest accepted one dropped, the others observed in order. By event id.
    static func engineAges(
        _ merged: [String], _ byID: [String: Placed], lateness: Int64, configuration: AccountAges.Configuration
    ) -> [String: AccountAge] {
        var ages = AccountAges(configuration: configuration)
        var watermark: Int64?
        var result: [String: AccountAge] = [:]
        for id in merged {
            let e = byID[id]!.event
            if let w = watermark, e.time.seconds < w - lateness { continue }
            watermark = max(watermark ?? e.time.seconds, e.time.seconds)
            result[id] = ages.observe(account: e.account, created: nil, at: e.time)
        }
        return result
    }

    /// The same ages computed per partition of accounts, each partition seeing only its own events (in any order)
    /// with their keys: sorted by (key, host, position), an event is late when its time is more than `lateness`
    /// before its key, and an account's first-seen time is that of its first event not late. The warm-up decision
    /// needs one fact of the whole stream, the first event's time (`streamStart`), which the stage that sees every
    /// host has.
    static func partitionAges(
        _ all: [Placed], partitions: Int, streamStart: Int64?, lateness: Int64,
        configuration: AccountAges.Configuration, orderedBy order: ([Placed]) -> [Placed]
    ) -> [String: AccountAge] {
        var result: [String: AccountAge] = [:]
        for partition in 0..<partitions {
            let mine = all.filter { Int(StableHash.of($0.event.account) % UInt64(partitions)) == partition }
            var firstSeen: [String: Int64] = [:]
            for p in order(mine) where p.event.time.seconds >= p.key - lateness {
                let t = p.event.time.seconds
                let first = firstSeen[p.event.account] ?? t
                firstSeen[p.event.account] = first
                guard let start = streamStart else { continue }
                if first - start < configuration.warmupSeconds {
                    result[p.id] = AccountAge(isYoung: false, ageSeconds: nil, basis: .warmup)
                } else {
                    let age = max(0, t - first)
                    result[p.id] = AccountAge(
                        isYoung: age < configuration.newAccountAgeSeconds, ageSeconds: age, basis: .firstSeen)
                }
            }
        }
        return result
    }

    @Test(
        "First-seen ages and late drops computed per partition in key order equal the engine's, on 3,000 random logs")
    func firstSeenPerPartitionEqualsEngine() {
        var random = SplitMix64(seed: 1515)
        var arrivalOrderWrong = 0
        var timeOrderWrong = 0
        for trial in 0..<3_000 {
            let logs = Self.randomLogs(&random)
            let all = Self.placed(logs)
            let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
            let merged = Self.merged(logs, &random)
            let lateness = Int64(random.below(6))
            let configuration = AccountAges.Configuration(
                warmupSeconds: Int64(random.below(4)), newAccountAgeSeconds: Int64(1 + random.below(6)))
            let engine = Self.engineAges(merged, byID, lateness: lateness, configuration: configuration)
            let start = merged.first.map { byID[$0]!.event.time.seconds }
            let partitions = 1 + random.below(4)
            let perPartition = Self.partitionAges(
                all, partitions: partitions, streamStart: start, lateness: lateness, configuration: configuration,
                orderedBy: Self.sortedByKey)
            #expect(perPartition == engine, "trial \(trial): \(logs.map { "\($0.name): \($0.times) \($0.accounts)" })")
            // Teeth: the same computation in an arrival order (each host's events in its log order, one host after
            // another), or by the events' own times, is not the engine's.
            let arrival = Self.partitionAges(
                all, partitions: partitions, streamStart: start, lateness: lateness, configuration: configuration
            ) { $0.sorted { ($0.host, $0.position) < ($1.host, $1.position) } }
            if arrival != engine { arrivalOrderWrong += 1 }
            let byTime = Self.partitionAges(
                all, partitions: partitions, streamStart: start, lateness: lateness, configuration: configuration
            ) {
                $0.sorted {
                    ($0.event.time.seconds, $0.host, $0.position) < ($1.event.time.seconds, $1.host, $1.position)
                }
            }
            if byTime != engine { timeOrderWrong += 1 }
        }
        #expect(arrivalOrderWrong > 1_500)  // 1,986 of the 3,000 with this seed
        #expect(timeOrderWrong > 500)  // 738
    }

    @Test("docs/fleet.md's example: an account's first event by its own time is not its first in the engine")
    func documentedExample() {
        // Host A logs x (another account, 10:00:12) then y (account a, 10:00:05); host B logs z (account a, 10:00:07).
        let logs = [
            HostLog(name: "A", times: [36_012, 36_005], accounts: ["x", "a"]),
            HostLog(name: "B", times: [36_007], accounts: ["a"]),
        ]
        var random = SplitMix64(seed: 1)
        let merged = Self.merged(logs, &random)
        #expect(merged == ["B#0", "A#0", "A#1"])
        let keys = Dictionary(uniqueKeysWithValues: Self.placed(logs).map { ($0.id, $0.key) })
        // y's key is 10:00:12 (x before it on A), z's 10:00:07: z is a's first event, as in the engine.
        #expect(keys["A#1"] == 36_012 && keys["B#0"] == 36_007)
    }
}
