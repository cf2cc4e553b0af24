import Foundation
import Logging
import SendWatchCore
import SendWatchIngest
import SendWatchPipeline
import SendWatchTesting
import Testing

/// The merge key `sendwatch ship` attaches to each event record (`host_max_time`, ``EventRecord/hostMaxTime``):
/// the record's round trip, the keys ship computes against ``MergeOrderKeyTests``' definition, and forwarding.
/// The restart with a real broker is in ``ShipTests``.
@Suite
struct ShipKeyTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static let event = SendEvent(
        time: EventTime(microseconds: 1_795_000_000_123_456), host: "mx1", account: "acc \"q\" ü",
        accountSource: .header, accountCreated: EventTime(seconds: 1_794_000_000), sender: "s@example.org",
        recipient: "r@example.net", subject: "Hi", template: "t1", messageID: "m@x", queueID: "Q1",
        clientIP: "192.0.2.1", login: "l", claimedAccount: "c", status: .deferred)

    static func bytes(_ record: EventRecord) -> [UInt8] {
        var w = JSONWriter()
        record.write(to: &w)
        return w.bytes
    }

    @Test("A record with its key decodes to the event and the key; one without, or an old one, to no key")
    func recordRoundTrip() throws {
        var decoder = EventRecordDecoder()
        let key = EventTime(microseconds: 1_795_000_100_000_001)
        let keyed = EventRecord(event: Self.event, hostMaxTime: key)
        let written = Self.bytes(keyed)
        #expect(String(decoding: written, as: UTF8.self).hasSuffix(#","host_max_time":"2026-11-18T11:08:20.000001Z"}"#))
        #expect(written.withUnsafeBytes { decoder.decodeRecord($0) } == keyed)
        // `decode` (what detect takes in today) gives the same event, the key left out.
        #expect(written.withUnsafeBytes { decoder.decode($0) } == Self.event)
        // Without a key the record is exactly the `sendwatch events` line (without its newline), as before.
        var line = JSONWriter()
        Self.event.writeJSONLine(to: &line)
        let old = Array(line.bytes.dropLast())
        #expect(Self.bytes(EventRecord(event: Self.event)) == old)
        #expect(old.withUnsafeBytes { decoder.decodeRecord($0) } == EventRecord(event: Self.event, hostMaxTime: nil))
        #expect(
            Array(
                #"{"time":"2026-01-01T00:00:00Z","account":"a","account_source":"sender","sender":"s","recipient":"r","status":"sent","host_max_time":null}"#
                    .utf8
            )
            .withUnsafeBytes { decoder.decodeRecord($0) }?.hostMaxTime == nil)
        // A key that is there and is no time makes the record no event record, as a bad `account_created` does.
        for bad in [#""host_max_time":"soon""#, #""host_max_time":5"#] {
            let record =
                #"{"time":"2026-01-01T00:00:00Z","account":"a","account_source":"sender","sender":"s","recipient":"r","status":"sent",\#(bad)}"#
            #expect(Array(record.utf8).withUnsafeBytes { decoder.decodeRecord($0) } == nil, "\(record)")
        }
        // A decoder ignores keys it does not know (so a worker from before `host_max_time` reads ship's records as
        // their events): a key it does not know, before or after the others, changes nothing.
        let unknown =
            #"{"zz_later":[1,{"a":"b"}],"#
            + String(decoding: written.dropFirst().dropLast(), as: UTF8.self) + #","later_still":"x"}"#
        #expect(Array(unknown.utf8).withUnsafeBytes { decoder.decodeRecord($0) } == keyed)
    }

    @Test("A cut subject stays cut through the record: the worker's miner places it as replay's does")
    func subjectCutRoundTrip() {
        var decoder = EventRecordDecoder()
        var cut = Self.event
        cut.subjectCut = true
        let written = Self.bytes(EventRecord(event: cut, hostMaxTime: cut.time))
        #expect(String(decoding: written, as: UTF8.self).contains(#""subject_cut":true"#))
        // Before, the decoder dropped the key: a worker mined the cut text as a whole subject.
        #expect(written.withUnsafeBytes { decoder.decodeRecord($0) }?.event.subjectCut == true)
        #expect(Self.bytes(EventRecord(event: Self.event)).withUnsafeBytes { decoder.decode($0) }?.subjectCut == false)
    }

    @Test("Runs of one host's events and host changes give each event its host's running maximum, saved or not")
    func maximaAgainstAModel() throws {
        // The last host's maximum is kept apart from the table until another host comes: the keys, the maxima and
        // a checkpoint taken anywhere are a plain dictionary's.
        var rng = SplitMix64(seed: 17)
        var m = HostTimeMaxima()
        var model: [String: EventTime] = [:]
        let hosts = ["mx1", "mx2", "", "relay-3"]
        var host = hosts[0]
        for step in 0..<5_000 {
            if rng.next() % 8 == 0 { host = hosts[Int(rng.next() % UInt64(hosts.count))] }
            let time = EventTime(seconds: 1_000 + Int64(step / 3) - Int64(rng.next() % 20))
            let event = SendEvent(
                time: time, host: host.isEmpty && step % 2 == 0 ? nil : host, account: "a", accountSource: .sender,
                sender: "s", recipient: "r", status: .sent)
            let expected = max(model[host] ?? time, time)
            model[host] = expected
            #expect(m.key(for: event) == expected)
            if step % 997 == 0 {
                #expect(m.maxima == model)
                m = try JSONDecoder().decode(HostTimeMaxima.self, from: JSONEncoder().encode(m))
                #expect(m.maxima == model)
            }
        }
        #expect(m.maxima == model)
        var other = HostTimeMaxima()
        for (h, t) in model.sorted(by: { $0.key < $1.key }) {
            _ = other.key(
                for: SendEvent(
                    time: t, host: h, account: "a", accountSource: .sender, sender: "s", recipient: "r", status: .sent))
        }
        #expect(other == m, "equal maxima are equal whichever host came last")
    }

    @Test("Each host's maximum goes on from its checkpoint; beyond 4,096 hosts an event has no key, counted")
    func maximaBoundAndCheckpoint() throws {
        var m = HostTimeMaxima()
        func e(_ seconds: Int64, _ host: String?) -> SendEvent {
            SendEvent(
                time: EventTime(seconds: seconds), host: host, account: "a", accountSource: .sender, sender: "s",
                recipient: "r", status: .sent)
        }
        #expect(m.key(for: e(10, "mx1")) == EventTime(seconds: 10))
        #expect(m.key(for: e(7, "mx1")) == EventTime(seconds: 10))
        #expect(m.key(for: e(8, "mx2")) == EventTime(seconds: 8))
        // No host is the merge's source "".
        #expect(m.key(for: e(5, nil)) == EventTime(seconds: 5))
        #expect(m.key(for: e(3, "")) == EventTime(seconds: 5))
        #expect(m.key(for: e(10, "mx1")) == EventTime(seconds: 10))
        #expect(m.key(for: e(12, "mx1")) == EventTime(seconds: 12))
        for h in 3..<HostTimeMaxima.maxHosts { _ = m.key(for: e(1, "h\(h)")) }
        #expect(m.maxima.count == HostTimeMaxima.maxHosts)
        #expect(m.key(for: e(1, "one-too-many")) == nil)
        #expect(m.unkeyedEvents == 1)
        let saved = try JSONEncoder().encode(m)
        var back = try JSONDecoder().decode(HostTimeMaxima.self, from: saved)
        #expect(back == m)
        #expect(back.key(for: e(11, "mx1")) == EventTime(seconds: 12))
        #expect(back.key(for: e(2, "one-too-many")) == nil)
        #expect(back.unkeyedEvents == 2)
        // Damaged: a negative count, or more hosts than the bound.
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(HostTimeMaxima.self, from: Data(#"{"maxima":{},"unkeyedEvents":-1}"#.utf8))
        }
        var many: [String: Int64] = [:]
        for h in 0...HostTimeMaxima.maxHosts { many["h\(h)"] = 1 }
        let tooMany = try JSONSerialization.data(withJSONObject: ["maxima": many, "unkeyedEvents": 0])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(HostTimeMaxima.self, from: tooMany) }
    }

    /// A publisher that acknowledges everything and keeps what it got.
    struct KeepingPublisher: ShipPublisher {
        var windowSize = 64
        var got: [ShipMessage] = []
        mutating func publish(_ messages: ArraySlice<ShipMessage>) -> [PublishOutcome] {
            got += messages
            return messages.map { _ in .acknowledged(duplicate: false) }
        }
    }

    /// The hosts' logs interleaved at random into one JSON-lines log (each host's events in its log order), one
    /// line per event: `ts` in epoch seconds (offset by 1.7e9), the event's host, recipient `<host>.<position>@x`.
    static func jsonLines(_ logs: [MergeOrderKeyTests.HostLog], _ random: inout SplitMix64) -> String {
        var next = logs.map { _ in 0 }
        var out = ""
        while true {
            let waiting = logs.indices.filter { next[$0] < logs[$0].times.count }
            guard !waiting.isEmpty else { break }
            let h = random.pick(waiting)
            let i = next[h]
            next[h] += 1
            out +=
                #"{"ts":\#(1_700_000_000 + logs[h].times[i]),"account":"\#(logs[h].accounts[i])","#
                + #""sender":"s@example.org","to":"\#(logs[h].name).\#(i)@x.example","host":"\#(logs[h].name)"}"#
                + "\n"
        }
        return out
    }

    @Test("The keys ship writes are each host's running maximum, MergeOrderKeyTests' keys, whose order is the merge's")
    func shipWritesTheMergeKeys() throws {
        var random = SplitMix64(seed: 2026)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ship-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var decoder = EventRecordDecoder()
        var checked = 0
        var keyAboveTime = 0
        for trial in 0..<20 {
            let logs = MergeOrderKeyTests.randomLogs(&random)
            let log = dir.appendingPathComponent("t\(trial).log")
            try Self.jsonLines(logs, &random).write(to: log, atomically: false, encoding: .utf8)
            var options = ShipOptions(patterns: [log.path], host: "mta1")
            options.once = true
            options.fromStart = true
            options.follow.usePolling = true
            let run = try ShipRun(
                configuration: Configuration(), options: options, publisher: KeepingPublisher(), logger: Self.quiet)
            try run.run { false }
            let placed = MergeOrderKeyTests.placed(logs)
            let expected = Dictionary(uniqueKeysWithValues: placed.map { ("\($0.host).\($0.position)@x.example", $0) })
            let records = try run.publisher.got.map { m in
                try #require(m.payload.withUnsafeBytes { decoder.decodeRecord($0) })
            }
            #expect(records.count == placed.count)
            var sortable: [(key: EventTime, host: String, position: Int, id: String)] = []
            for r in records {
                let p = try #require(expected[r.event.recipient], "trial \(trial): \(r.event.recipient)")
                #expect(r.event.host == p.host)
                #expect(r.hostMaxTime == EventTime(seconds: 1_700_000_000 + p.key), "trial \(trial): \(p.id)")
                if p.key > p.event.time.seconds { keyAboveTime += 1 }
                sortable.append((r.hostMaxTime ?? EventTime(seconds: 0), p.host, p.position, p.id))
                checked += 1
            }
            // Sorted by (key ship wrote, host, position): the per-host event-time merge's order.
            let byKey = sortable.sorted { ($0.key, $0.host, $0.position) < ($1.key, $1.host, $1.position) }.map(\.id)
            #expect(byKey == MergeOrderKeyTests.merged(logs, &random), "trial \(trial)")
        }
        // The logs are out of time order: many keys are above their own event's time.
        #expect(checked > 500)
        #expect(keyAboveTime * 4 > checked, "\(keyAboveTime) of \(checked)")
    }

    @Test("forward passes the record on byte for byte: the second stage decodes the key ship wrote")
    func forwardKeepsTheKey() throws {
        let records = [
            EventRecord(event: Self.event, hostMaxTime: EventTime(seconds: 1_795_000_100)),
            EventRecord(event: Self.event, hostMaxTime: nil),
        ]
        let texts = records.map { String(decoding: Self.bytes($0), as: UTF8.self) }
        let bodies = try ForwardRunTests.forward(
            ForwardRunTests.RecordsFeed(records: texts), source: ForwardRunTests.AllInOne(last: 2),
            accounts: [(Self.event.account, EventTime(seconds: 5))], rounds: 2)
        var decoder = EventRecordDecoder()
        var forwarded: [EventRecord] = []
        for body in bodies {
            guard case .event(_, let record, let created) = ForwardedMessage(Array(body.utf8)) else { continue }
            #expect(created == EventTime(seconds: 5))
            forwarded.append(try #require(Array(record).withUnsafeBytes { decoder.decodeRecord($0) }))
        }
        #expect(forwarded == records)
    }
}
