import Foundation
import SendWatchPipeline
import SendWatchTesting
import Testing

@testable import SendWatchFleet

/// A feed whose reader is spent while its client is disconnected answers `unavailable` without making the consumer
/// again, and makes it again exactly once at the first fetch after the client reconnects
/// (``NATSStreamFeed/remakes``). The fetches are the test's own, in process, so no idle fetch of a busy machine
/// adds a remake between the counts compared. Skipped, saying why, without nats-server.
@Suite(.serialized)
struct FeedRemakeTests {
    /// Whether `fetch` is the feed's answer for a spent reader while its client is disconnected.
    static func notConnected(_ fetch: FeedFetch) -> Bool {
        if case .unavailable(let why) = fetch { return why.contains("not connected") }
        return false
    }

    @Test("A reader spent while disconnected gives unavailable, then one remake at the first fetch after reconnecting")
    func outageRemakesOnce() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        // Its own server: this test kills it.
        let server = try NATSTestServer()
        let spec = StreamSpec(name: "FEEDREMAKE", subjects: ["feedremake.alerts"])
        let client = try JetStreamClient(url: server.url)
        try client.ensureStream(spec)
        for i in 1...3 {
            _ = try client.publish(subject: "feedremake.alerts", bytes: [UInt8(i)], messageID: "r\(i)").get()
        }
        var feed = NATSStreamFeed(url: server.url, stream: spec, subject: "feedremake.alerts", durable: "feedremake")
        feed.resume(after: 0)
        var sequences: [UInt64] = []
        // Each fetch asks for exactly the messages still to come: the last one fills its batch, so it is settled
        // and the reader is not spent when the server dies.
        let deadline = Date().addingTimeInterval(60)
        while sequences.count < 3 && Date() < deadline {
            let fetch = feed.fetch(maxMessages: 3 - sequences.count, timeoutMilliseconds: 5_000)
            if case .messages(let messages) = fetch { sequences += messages.map(\.sequence) }
        }
        try #require(sequences == [1, 2, 3], "the feed read the first messages")
        let before = feed.remakes

        server.kill()
        // Another client's disconnection: the feed's own client sees the same closed socket.
        #expect(waitUntil(seconds: 60) { !client.isConnected }, "the broker is seen down")
        // The first fetch with the broker down spends the reader (it fails, or ends on its deadline); later ones
        // find it spent and the client disconnected: unavailable, and the consumer is not made again.
        var outage = false
        #expect(
            waitUntil(seconds: 60) {
                outage = Self.notConnected(feed.fetch(maxMessages: 3, timeoutMilliseconds: 1_000))
                return outage || feed.remakes != before
            })
        #expect(outage, "a spent reader, the client disconnected: unavailable")
        #expect(feed.remakes == before, "no remake while the client is disconnected")

        try server.start()
        // The first fetch after the client reconnects makes the consumer again, once, whatever it then returns
        // (JetStream may still be getting ready after the restart).
        var first: FeedFetch?
        #expect(
            waitUntil(seconds: 60) {
                let fetch = feed.fetch(maxMessages: 3, timeoutMilliseconds: 1_000)
                if Self.notConnected(fetch) { return false }
                first = fetch
                return true
            }, "the client reconnected")
        #expect(first != nil)
        #expect(feed.remakes == before + 1, "made again exactly once, at the first fetch after reconnecting")

        // The consumer made again reads on from where the run is.
        for i in 4...5 {
            let stored = waitUntil(seconds: 60) {
                (try? client.publish(subject: "feedremake.alerts", bytes: [UInt8(i)], messageID: "r\(i)").get()) != nil
            }
            try #require(stored, "message \(i) stored after the restart")
        }
        if case .messages(let messages) = first { sequences += messages.map(\.sequence) }
        let more = Date().addingTimeInterval(60)
        while sequences.count < 5 && Date() < more {
            if case .messages(let messages) = feed.fetch(maxMessages: 2, timeoutMilliseconds: 1_000) {
                sequences += messages.map(\.sequence)
            }
        }
        #expect(sequences == [1, 2, 3, 4, 5], "each message once, in order")
    }
}
