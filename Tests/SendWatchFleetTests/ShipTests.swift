import Foundation
import SendWatchCore
import SendWatchFleet
import SendWatchPipeline
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch ship` end to end: the built executable against a real nats-server on loopback, the stream read
/// back with a pull consumer and compared with what `sendwatch events` gives for the same log. Skipped, saying
/// why, without nats-server.
@Suite(.serialized)
struct ShipTests {
    static let shared: Result<NATSTestServer, any Error> = Result { try NATSTestServer() }

    /// The bundled real Postfix log (4360 lines, 1165 events), decompressed once into a temporary file.
    static let plainLog: Result<String, any Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../datasets/real-postfix-3.7.postfix.log.zst"
        ).standardized.path
        let out = NSTemporaryDirectory() + "/sendwatch-ship-\(getpid())-real-postfix.log"
        let zstd = try run(["/usr/bin/env", "zstd", "-d", "-q", "-f", "-o", out, source])
        guard zstd.status == 0 else { throw NATSTestServerError(message: "zstd failed: \(zstd.stderr)") }
        return out
    }

    /// The reference: `sendwatch events --year 2026 LOG`, one JSON object per line.
    static let referenceEvents: Result<[String], any Error> = Result {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let r = try run([exe.path, "events", "--year", "2026", try plainLog.get()])
        guard r.status == 0 else { throw NATSTestServerError(message: "events failed: \(r.stderr)") }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// What one agent publishes for the `sendwatch events` lines `lines` of its log, in order: each line (without
    /// the newline) with its merge key `host_max_time` as the last key, the greatest `time` of that line and every
    /// earlier one of its `host` (a missing host is the host ""), computed here from the lines themselves.
    static func shipRecords<S: StringProtocol>(_ lines: [S]) throws -> [String] {
        var decoder = EventRecordDecoder()
        var maxima: [String: EventTime] = [:]
        return try lines.map { line in
            let event = try #require(Array(line.utf8).withUnsafeBytes { decoder.decode($0) }, "\(line)")
            let key = max(maxima[event.host ?? ""] ?? event.time, event.time)
            maxima[event.host ?? ""] = key
            return String(line.dropLast()) + #","host_max_time":"\#(key)"}"#
        }
    }

    /// Runs a command to its end: exit status, standard output and error.
    static func run(_ argv: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A `sendwatch ship --once` of the log to `stream` (subjects `<prefix>.*`), started, not waited for.
    static func startShip(url: String, stream: String, prefix: String, state: String) throws -> Process {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let p = Process()
        p.executableURL = exe
        p.arguments = [
            "ship", "--nats", url, "--stream", stream, "--subject-prefix", prefix, "--partitions", "4",
            "--state", state, "--once", "--host", "mta1", "--year", "2026", "--checkpoint-interval", "50ms",
            "--duplicate-window", "10m", "--log-level", "warning", try plainLog.get(),
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Every message of `prefix.*`, in stream order.
    static func readBack(url: String, prefix: String, expected: Int) throws -> [ReceivedMessage] {
        let client = try JetStreamClient(url: url)
        let consumer = try PullConsumer(client: client, subject: prefix + ".*")
        var got: [ReceivedMessage] = []
        while true {
            let batch = try consumer.fetch(batch: 512, timeoutMilliseconds: got.count >= expected ? 300 : 3000)
            if batch.isEmpty { break }
            got += batch
        }
        return got
    }

    /// The stream holds exactly the reference events, in log order, each once, each on its account's subject, each
    /// with its host's running maximum time as its key.
    static func expectExactlyOnce(_ got: [ReceivedMessage], prefix: String) throws {
        let reference = try shipRecords(try referenceEvents.get())
        #expect(reference.count == 1165)
        #expect(got.count == reference.count)
        // Compared line by line (a failure names the first difference, not two 500 KB arrays).
        let lines = got.map { String(decoding: $0.payload, as: UTF8.self) }
        let firstDifference = zip(lines, reference).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(
            firstDifference == nil, "event \(firstDifference?.offset ?? -1) differs from sendwatch events with its key")
        #expect(Set(got.compactMap(\.messageID)).count == reference.count)
        let partitioning = try EventPartitioning(partitions: 4, prefix: prefix)
        for m in got.prefix(50) {
            let object = try JSONSerialization.jsonObject(with: Data(m.payload)) as? [String: Any]
            let account = try #require(object?["account"] as? String)
            #expect(m.subject == partitioning.subject(ofAccount: account))
        }
    }

    static func tempDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/sendwatch-ship-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw NATSTestServerError(message: "mkdtemp failed") }
        return String(cString: made)
    }

    @Test func shipOncePublishesExactlyTheEventsOfTheLog() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        let state = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ship = try Self.startShip(url: server.url, stream: "SHIP_ONCE", prefix: "once", state: state)
        ship.waitUntilExit()
        #expect(ship.terminationStatus == 0)
        try Self.expectExactlyOnce(try Self.readBack(url: server.url, prefix: "once", expected: 1165), prefix: "once")
        // A second run on the same state has nothing left to publish.
        let again = try Self.startShip(url: server.url, stream: "SHIP_ONCE", prefix: "once", state: state)
        again.waitUntilExit()
        #expect(again.terminationStatus == 0)
        let client = try JetStreamClient(url: server.url)
        #expect(try client.streamState("SHIP_ONCE").messages == 1165)
    }

    @Test func shipKilledMidwayAndRestartedStillPublishesEachEventOnce() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        let state = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let client = try JetStreamClient(url: server.url)
        var kills = 0
        var runs = 0
        while runs < 30 {
            runs += 1
            let before = (try? client.streamState("SHIP_KILL").messages) ?? 0
            let ship = try Self.startShip(url: server.url, stream: "SHIP_KILL", prefix: "kill", state: state)
            // Kill it once it has published about 150 more events (if it has not finished by then).
            let deadline = Date().addingTimeInterval(30)
            while ship.isRunning && Date() < deadline {
                if let now = try? client.streamState("SHIP_KILL").messages, now >= before + 150 { break }
                usleep(2_000)
            }
            if ship.isRunning {
                kill(ship.processIdentifier, SIGKILL)
                ship.waitUntilExit()
                kills += 1
                continue
            }
            #expect(ship.terminationStatus == 0)
            break
        }
        print("ship was killed \(kills) times before it finished")
        #expect(kills >= 1, "ship finished before any kill: the test did not exercise a restart")
        try Self.expectExactlyOnce(try Self.readBack(url: server.url, prefix: "kill", expected: 1165), prefix: "kill")
    }

    @Test func shipWaitsForABrokerThatIsDownAtTheStartAndCatchesUp() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try NATSTestServer()
        server.stop()
        let state = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ship = try Self.startShip(url: server.url, stream: "SHIP_LATE", prefix: "late", state: state)
        usleep(700_000)
        #expect(ship.isRunning, "ship must wait for the broker, not give up")
        try server.start()
        let deadline = Date().addingTimeInterval(30)
        while ship.isRunning && Date() < deadline { usleep(20_000) }
        if ship.isRunning { kill(ship.processIdentifier, SIGKILL) }
        ship.waitUntilExit()
        #expect(ship.terminationStatus == 0)
        try Self.expectExactlyOnce(try Self.readBack(url: server.url, prefix: "late", expected: 1165), prefix: "late")
    }

    @Test("With a window of publishes in flight, a broker killed and restarted mid-run loses and doubles nothing")
    func windowSurvivesABrokerCrashMidRun() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try NATSTestServer()
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The real log four times over (4660 events): long enough to be mid-way when the broker dies.
        let one = try String(contentsOfFile: try Self.plainLog.get(), encoding: .utf8)
        let log = dir + "/four.log"
        try String(repeating: one, count: 4).write(toFile: log, atomically: false, encoding: .utf8)
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let reference = try Self.shipRecords(
            try Self.run([exe.path, "events", "--year", "2026", log]).stdout.split(separator: "\n"))
        #expect(reference.count == 4 * 1165)
        let ship = Process()
        ship.executableURL = exe
        ship.arguments = [
            "ship", "--nats", server.url, "--stream", "SHIP_CRASH", "--subject-prefix", "crash", "--partitions", "4",
            "--state", dir + "/state", "--once", "--host", "mta1", "--year", "2026", "--window", "64",
            "--log-level", "warning", log,
        ]
        ship.standardOutput = FileHandle.nullDevice
        ship.standardError = FileHandle.nullDevice
        try ship.run()
        let client = try JetStreamClient(url: server.url)
        var deadline = Date().addingTimeInterval(30)
        while ship.isRunning && Date() < deadline {
            if let n = try? client.streamState("SHIP_CRASH").messages, n >= 500 { break }
            usleep(1_000)
        }
        #expect(ship.isRunning, "ship finished before the broker was killed: the test did not exercise a crash")
        server.kill()
        usleep(300_000)
        try server.start()
        deadline = Date().addingTimeInterval(60)
        while ship.isRunning && Date() < deadline { usleep(20_000) }
        if ship.isRunning { kill(ship.processIdentifier, SIGKILL) }
        ship.waitUntilExit()
        #expect(ship.terminationStatus == 0)
        let got = try Self.readBack(url: server.url, prefix: "crash", expected: reference.count)
        #expect(got.count == reference.count)
        #expect(Set(got.compactMap(\.messageID)).count == reference.count)
        // Retried publishes may land after later ones of their window: the same events, not necessarily in log
        // order.
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) }.sorted() == reference.sorted())
    }

    /// A JSON-lines log of `count` events of three hosts interleaved, out of time order: each host's clock rises by
    /// 0-2 s a line and its events are stamped up to 30 s behind it (equal times common), and `mx1`'s first event is
    /// a day ahead of everything, so that every `mx1` key is that time.
    static func keyedLog(count: Int) -> String {
        var random = SplitMix64(seed: 15)
        var clock: [Int64] = [1_795_000_000, 1_795_000_000, 1_795_000_000]
        var out = ""
        for i in 0..<count {
            let h = random.below(3)
            clock[h] += Int64(random.below(3))
            let t = i == 0 ? clock[0] + 86_400 : clock[h] - Int64(random.below(31))
            out +=
                #"{"ts":\#(t),"account":"acct\#(random.below(50))","sender":"s@example.org","#
                + #""to":"r\#(i)@x.example","host":"mx\#(i == 0 ? 1 : h + 1)","subject":"Notice \#(i)"}"#
                + "\n"
        }
        return out
    }

    @Test("ship killed after a checkpoint mid-way and restarted publishes the events again with the keys they had")
    func restartRepublishesTheSameKeys() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        let dir = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/hosts.log"
        try Self.keyedLog(count: 8_000).write(toFile: log, atomically: false, encoding: .utf8)
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let events = try Self.run([exe.path, "events", log])
        #expect(events.status == 0, "\(events.stderr)")
        let reference = try Self.shipRecords(events.stdout.split(separator: "\n"))
        #expect(reference.count == 8_000)
        let client = try JetStreamClient(url: server.url)
        func ship(_ stream: String, _ state: String) throws -> Process {
            let p = Process()
            p.executableURL = exe
            p.arguments = [
                "ship", "--nats", server.url, "--stream", stream, "--subject-prefix", stream.lowercased(),
                "--partitions", "4", "--state", state, "--once", "--host", "mta1", "--checkpoint-interval", "50ms",
                "--log-level", "warning", log,
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        // Killed once the stream holds 5,000 events (a checkpoint follows every poll of about 2,100 but the first),
        // then started again on the same state but publishing to a second stream, where nothing is dropped as a
        // duplicate: the events it publishes again, from its checkpoint up to where the first run was killed, are in
        // both streams.
        for attempt in 1...5 {
            let (first, second) = ("SHIP_KEYS_A\(attempt)", "SHIP_KEYS_B\(attempt)")
            let state = dir + "/state\(attempt)"
            let killed = try ship(first, state)
            let deadline = Date().addingTimeInterval(60)
            while killed.isRunning && Date() < deadline {
                if let n = try? client.streamState(first).messages, n >= 5_000 { break }
                usleep(2_000)
            }
            try #require(killed.isRunning, "ship finished before it was killed")
            kill(killed.processIdentifier, SIGKILL)
            killed.waitUntilExit()
            let restarted = try ship(second, state)
            restarted.waitUntilExit()
            #expect(restarted.terminationStatus == 0)
            let a = try Self.readBack(
                url: server.url, prefix: first.lowercased(), expected: Int(try client.streamState(first).messages))
            let b = try Self.readBack(
                url: server.url, prefix: second.lowercased(), expected: Int(try client.streamState(second).messages))
            let inA = Dictionary(uniqueKeysWithValues: a.map { ($0.messageID ?? "", $0.payload) })
            let again = b.filter { inA[$0.messageID ?? ""] != nil }
            guard !again.isEmpty, b.count < reference.count else {
                print("attempt \(attempt): killed at its checkpoint (or before the first), tried again")
                continue
            }
            print(
                "killed after \(a.count) events, restarted from event \(reference.count - b.count), \(again.count) "
                    + "published again")
            // The events published twice carry the same record, key included.
            let differing = again.filter { inA[$0.messageID ?? ""] != $0.payload }
            #expect(
                differing.count == 0, "\(differing.count) of \(again.count) events published again with another record")
            // And every record, before and after the restart, has its host's running maximum over the whole log.
            let all = (a + b.filter { inA[$0.messageID ?? ""] == nil }).map {
                String(decoding: $0.payload, as: UTF8.self)
            }
            #expect(all.count == reference.count)
            let firstDifference = zip(all, reference).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(
                firstDifference == nil,
                "event \(firstDifference?.offset ?? -1) differs: \(firstDifference.map { "\($0.element)" } ?? "")")
            return
        }
        Issue.record("no attempt killed ship between a checkpoint and its next one")
    }
}
