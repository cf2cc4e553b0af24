import Foundation
import SendWatchCore
import SendWatchPipeline
import SendWatchTesting
import Synchronization
import Testing

@testable import SendWatchFleet

/// Against a real nats-server with JetStream on loopback (started once for the suite); skipped, saying why,
/// where nats-server is not installed.
@Suite(.serialized)
struct JetStreamClientTests {
    /// The suite's server, or why there is none.
    static let shared: Result<NATSTestServer, any Error> = Result { try NATSTestServer() }

    /// The shared server, or nil (after printing why) when nats-server is missing; a server that is installed
    /// but does not start fails the test.
    static func server() throws -> NATSTestServer? {
        if let reason = NATSTestServer.missingReason {
            print("skipped: \(reason)")
            return nil
        }
        return try shared.get()
    }

    /// Fast timeouts so that the tests of unreachable servers take a fraction of a second.
    static var quick: JetStreamClient.Settings {
        var s = JetStreamClient.Settings()
        s.connectTimeoutMilliseconds = 500
        s.requestTimeoutMilliseconds = 500
        s.reconnectWaitMilliseconds = 50
        return s
    }

    /// Repeats `body` while it throws a transient error, for at most `seconds`.
    static func retrying<T>(seconds: Double = 10, _ body: () throws -> T) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            do {
                return try body()
            } catch {
                guard (error as? FleetError)?.isTransient == true, Date() < deadline else { throw error }
                usleep(50_000)
            }
        }
    }

    @Test func publishWithTheSameMessageIDIsStoredOnce() throws {
        guard let server = try Self.server() else { return }
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        try client.ensureStream(StreamSpec(name: "DEDUPE", subjects: ["dedupe.>"]))
        var sequences: [UInt64] = []
        for i in 0..<3 {
            let body = Array("event \(i)".utf8)
            let ack = try body.withUnsafeBytes {
                try client.publish(subject: "dedupe.a", payload: $0, messageID: "id-\(i)")
            }
            #expect(!ack.duplicate)
            sequences.append(ack.sequence)
        }
        #expect(sequences == [1, 2, 3])
        // The same id again, with another body: the server drops it and names the first copy.
        let again = try Array("changed".utf8).withUnsafeBytes {
            try client.publish(subject: "dedupe.a", payload: $0, messageID: "id-1")
        }
        #expect(again == PublishAck(sequence: 2, duplicate: true))
        #expect(try client.streamState("DEDUPE") == StreamState(messages: 3, lastSequence: 3))

        let consumer = try PullConsumer(client: client, subject: "dedupe.>")
        var got: [ReceivedMessage] = []
        while got.count < 3 {
            let batch = try consumer.fetch(batch: 10, timeoutMilliseconds: 2000)
            if batch.isEmpty { break }
            got += batch
        }
        #expect(got.map(\.messageID) == ["id-0", "id-1", "id-2"])
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == ["event 0", "event 1", "event 2"])
        #expect(got.map(\.streamSequence) == [1, 2, 3])
        #expect(got.allSatisfy { $0.subject == "dedupe.a" })
        // Everything was acknowledged: nothing more comes.
        #expect(try consumer.fetch(batch: 10, timeoutMilliseconds: 200).isEmpty)
    }

    /// Agents that start together on a fresh server each add the same stream at once; none of them may fail
    /// for it (the server can answer the later add that its subjects overlap the twin's new stream).
    @Test func agentsAddingTheSameStreamAtOnceAllSucceed() throws {
        guard let server = try Self.server() else { return }
        let url = server.url
        let failures = Mutex<[String]>([])
        for round in 0..<20 {
            let spec = StreamSpec(name: "TWINS_\(round)", subjects: ["twins\(round).*"])
            let ready = DispatchSemaphore(value: 0)
            let start = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            let agents = 4
            for _ in 0..<agents {
                DispatchQueue.global().async(group: group) {
                    // Each agent its own connection, made before the start so that the adds meet.
                    let client = Result { try JetStreamClient(url: url, settings: Self.quick) }
                    ready.signal()
                    start.wait()
                    do {
                        try client.get().ensureStream(spec)
                    } catch {
                        failures.withLock { $0.append("round \(round): \(error)") }
                    }
                }
            }
            for _ in 0..<agents { ready.wait() }
            for _ in 0..<agents { start.signal() }
            group.wait()
        }
        #expect(failures.withLock { $0 } == [])
    }

    @Test func ensureStreamIsIdempotentAndUpdatesSettings() throws {
        guard let server = try Self.server() else { return }
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        try client.ensureStream(StreamSpec(name: "ENSURE", subjects: ["ensure.*"]))
        try client.ensureStream(StreamSpec(name: "ENSURE", subjects: ["ensure.*"]))
        try client.ensureStream(StreamSpec(name: "ENSURE", subjects: ["ensure.*"], duplicateWindowSeconds: 30))
        #expect(try client.streamState("ENSURE").messages == 0)
        // Subjects another stream already takes: refused, with the server's code.
        #expect {
            try client.ensureStream(StreamSpec(name: "OVERLAP", subjects: ["ensure.x"]))
        } throws: { error in
            (error as? FleetError)?.code == .streamSetupFailed
        }
        // Out of range before anything is sent.
        #expect {
            try client.ensureStream(StreamSpec(name: "bad name", subjects: ["x"]))
        } throws: { error in
            (error as? FleetError)?.code == .invalidArgument
        }
        #expect {
            try client.streamState("MISSING")
        } throws: { error in
            (error as? FleetError)?.jetStreamCode == 10059
        }
    }

    @Test func eventsOfOneAccountGoToOnePartitionSubject() throws {
        let p = try EventPartitioning(partitions: 8)
        // FNV-1a 64 of the UTF-8 bytes and 0xFF, computed here independently of StableHash: a changed hash would
        // move accounts between partitions on a running fleet.
        func fnv(_ s: String) -> UInt64 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in Array(s.utf8) + [0xFF] { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return h
        }
        for account in ["acct-1", "acct-2", "a@example.com", ""] {
            #expect(p.partition(ofAccount: account) == Int(fnv(account) % 8))
            #expect(p.subject(ofAccount: account) == "sendwatch.events.\(fnv(account) % 8)")
        }
        #expect(p.streamSubject == "sendwatch.events.*")
        #expect(throws: FleetError.self) { try EventPartitioning(partitions: 0) }
        #expect(throws: FleetError.self) { try EventPartitioning(partitions: 1025) }
        #expect(throws: FleetError.self) { try EventPartitioning(partitions: 4, prefix: "a.*") }

        guard let server = try Self.server() else { return }
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        let q = try EventPartitioning(partitions: 4, prefix: "parts")
        try client.ensureStream(StreamSpec(name: "PARTS", subjects: [q.streamSubject]))
        for account in ["acct-1", "acct-2", "acct-3"] {
            _ = try Array(account.utf8).withUnsafeBytes {
                try client.publish(subject: q.subject(ofAccount: account), payload: $0, messageID: account)
            }
        }
        let consumer = try PullConsumer(client: client, subject: q.streamSubject)
        let got = try consumer.fetch(batch: 10, timeoutMilliseconds: 2000)
        #expect(got.count == 3)
        for m in got {
            #expect(m.subject == q.subject(ofAccount: String(decoding: m.payload, as: UTF8.self)))
        }
    }

    /// Two `forward` workers that both believe they hold one partition for the moment of a takeover: each reader
    /// deletes the partition's durable consumer and makes it again, and the one whose create comes after the other's
    /// meets a consumer of that name with another start (JetStream 10012). It is `consumer_contended`, which a feed
    /// reports as a retry, not `consume_failed`, which ended the worker (seen once in the chaos test, seed 4515).
    @Test func aConsumerMadeAgainByAnotherReaderIsContendedNotFailed() throws {
        guard let server = try Self.server() else { return }
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        try client.ensureStream(StreamSpec(name: "CONTEND", subjects: ["contend.*"]))
        for i in 0..<3 {
            _ = try client.publish(subject: "contend.1", bytes: Array("m\(i)".utf8), messageID: "contend-\(i)").get()
        }
        let holder = try StreamReader(
            client: client, stream: "CONTEND", subject: "contend.*", durable: "contend", start: 3)
        // The other reader's create, right after its delete, with the holder's consumer made in between.
        let error = #expect(throws: FleetError.self) {
            let sub = try StreamReader.makeConsumer(
                client: client, stream: "CONTEND", subject: "contend.*", durable: "contend", start: 1)
            client.destroy(subscription: sub)
        }
        #expect(error?.code == .consumerContended, "\(String(describing: error))")
        #expect(error?.jetStreamCode.map(StreamReader.contendedCodes.contains) == true)
        // The holder still reads from where it started.
        #expect(try holder.fetch(batch: 10, timeoutMilliseconds: 2000).map(\.sequence) == [3])
        // Made again after a delete (the next try), the consumer is the new reader's.
        let next = try StreamReader(
            client: client, stream: "CONTEND", subject: "contend.*", durable: "contend", start: 1)
        #expect(try next.fetch(batch: 10, timeoutMilliseconds: 2000).map(\.sequence) == [1, 2, 3])
    }

    /// A feed of `CONTENDLIMIT` whose consumer is contended (its reader's create answered `consumer_contended`)
    /// while `contended()` says so, with a contention limit of `limit` seconds.
    static func contendedFeed(
        _ server: NATSTestServer, durable: String, limit: Double, contended: @escaping () -> Bool
    ) throws -> NATSStreamFeed {
        let spec = StreamSpec(name: "CONTENDLIMIT", subjects: ["contendlimit.*"])
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        try client.ensureStream(spec)
        for i in 0..<3 {
            _ = try client.publish(subject: "contendlimit.1", bytes: Array("m\(i)".utf8), messageID: "cl-\(i)").get()
        }
        var feed = NATSStreamFeed(
            url: server.url, settings: Self.quick, stream: spec, subject: "contendlimit.*", durable: durable)
        feed.contentionLimitSeconds = limit
        feed.makeReader = { client, stream, subject, durable, start throws(FleetError) in
            // Another reader made the consumer again between this one's delete and create (JetStream 10012).
            if contended() { throw FleetError(code: .consumerContended, message: "scripted: 10012") }
            return try StreamReader(client: client, stream: stream, subject: subject, durable: durable, start: start)
        }
        return feed
    }

    /// What the feed's fetches gave until one was not `unavailable`, 20 ms apart (as a worker backs off), for at most
    /// `seconds`: the outages' reasons, the last outcome (nil: none within the bound) and when it came.
    static func fetchThroughOutages(_ feed: inout NATSStreamFeed, seconds: Double = 10)
        -> (outages: [String], last: FeedFetch?, after: Double)
    {
        let clock = ContinuousClock()
        let start = clock.now
        var outages: [String] = []
        while start.duration(to: clock.now) < .milliseconds(Int64(seconds * 1000)) {
            let outcome = feed.fetch(maxMessages: 10, timeoutMilliseconds: 1000)
            guard case .unavailable(let why) = outcome else {
                let d = start.duration(to: clock.now).components
                return (outages, outcome, Double(d.seconds) + Double(d.attoseconds) / 1e18)
            }
            outages.append(why)
            usleep(20_000)
        }
        return (outages, nil, seconds)
    }

    /// The contention bound (``NATSStreamFeed/contentionLimitSeconds``, 120 s in a worker) with a limit of 0.4 s:
    /// contention that lasts past it fails the feed, naming the likely causes; contention that ends within it is
    /// retried (`unavailable`), and the fetch after it reads the stream.
    @Test func consumerContentionPastItsLimitFailsTheFeedWithinItIsRetried() throws {
        guard let server = try Self.server() else { return }
        // For ever: retried for 0.4 s, then failed.
        var forever = try Self.contendedFeed(server, durable: "contend-forever", limit: 0.4) { true }
        let failed = Self.fetchThroughOutages(&forever)
        guard case .failed(let why) = try #require(failed.last, "the feed never failed within 10 s") else {
            Issue.record("contention past the limit: \(String(describing: failed.last))")
            return
        }
        #expect(
            why.contains("consumer_contended") && why.contains("may create consumers but not delete them"), "\(why)")
        #expect(failed.after >= 0.4, "failed after \(failed.after) s, before the limit")
        #expect(failed.outages.count >= 2 && failed.outages.allSatisfy { $0.contains("consumer_contended") })
        // For 0.15 s from the first attempt: retried, then read.
        let clock = ContinuousClock()
        var until: ContinuousClock.Instant?
        var brief = try Self.contendedFeed(server, durable: "contend-brief", limit: 0.4) {
            let end = until ?? clock.now.advanced(by: .milliseconds(150))
            until = end
            return clock.now < end
        }
        let read = Self.fetchThroughOutages(&brief)
        guard case .messages(let messages) = try #require(read.last, "the feed never read within 10 s") else {
            Issue.record("contention within the limit: \(String(describing: read.last))")
            return
        }
        #expect(messages.map(\.sequence) == [1, 2, 3])
        #expect(!read.outages.isEmpty && read.outages.allSatisfy { $0.contains("consumer_contended") })
    }

    @Test func aClientRidesOutAServerCrashAndTheStoreKeepsTheMessages() throws {
        guard Self.missingReason(print: true) == nil else { return }
        let server = try NATSTestServer()
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        try client.ensureStream(StreamSpec(name: "CRASH", subjects: ["crash"]))
        _ = try [1].withUnsafeBytes { try client.publish(subject: "crash", payload: $0, messageID: "m1") }
        server.kill()
        #expect {
            try [2].withUnsafeBytes { try client.publish(subject: "crash", payload: $0, messageID: "m2") }
        } throws: { error in
            (error as? FleetError)?.isTransient == true
        }
        try server.start()
        // The same client reconnects; the publish repeated until it is acknowledged is stored once.
        let ack = try Self.retrying {
            try [2].withUnsafeBytes { try client.publish(subject: "crash", payload: $0, messageID: "m2") }
        }
        #expect(ack.sequence == 2)
        #expect(try client.streamState("CRASH") == StreamState(messages: 2, lastSequence: 2))
    }

    @Test func aServerThatIsDownIsReportedAsTransient() throws {
        guard Self.missingReason(print: true) == nil else { return }
        let server = try NATSTestServer()
        server.stop()
        #expect {
            try JetStreamClient(url: server.url, settings: Self.quick)
        } throws: { error in
            (error as? FleetError)?.code == .brokerUnavailable && (error as? FleetError)?.isTransient == true
        }
        try server.start()
        let client = try JetStreamClient(url: server.url, settings: Self.quick)
        #expect(client.isConnected)
        try client.ensureStream(StreamSpec(name: "LATE", subjects: ["late"]))
        let ack = try [1].withUnsafeBytes { try client.publish(subject: "late", payload: $0, messageID: "x") }
        #expect(ack == PublishAck(sequence: 1, duplicate: false))
    }
}

extension JetStreamClientTests {
    /// ``NATSTestServer/missingReason``, printed when `print`.
    static func missingReason(print: Bool) -> String? {
        let reason = NATSTestServer.missingReason
        if let reason, print { Swift.print("skipped: \(reason)") }
        return reason
    }
}
