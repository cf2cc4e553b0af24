import CNATS
import Foundation
import SendWatchPipeline
import SendWatchTesting
import Testing

@testable import SendWatchFleet

/// A partition's feed (`sendwatch forward`: a filtered consumer, whose deliveries skip stream sequences) tells a
/// delivery lost by a gap in its consumer's delivery numbers and makes the consumer again after the last message
/// it delivered (``NATSStreamFeed/lostDeliveries``). The loss is made on a real nats-server, deterministically: a
/// pull request for the same consumer whose answer goes to another inbox takes deliveries the feed never sees, as
/// the answer to a fetch lost in a broker restart does. Skipped, saying why, without nats-server.
@Suite(.serialized)
struct LostDeliveryTests {
    /// Messages waiting in `subscription`.
    static func waiting(_ subscription: OpaquePointer) -> Int32 {
        var messages: Int32 = 0
        var bytes: Int32 = 0
        _ = natsSubscription_GetPending(subscription, &messages, &bytes)
        return messages
    }

    @Test("Deliveries a partition's feed never got are read again, in order, before anything after them")
    func lostDeliveriesAreReadAgain() throws {
        guard let server = try JetStreamClientTests.server() else { return }
        let client = try JetStreamClient(url: server.url)
        let spec = StreamSpec(name: "LOSTDELIVERY", subjects: ["lostdelivery.*"])
        try client.ensureStream(spec)
        // 40 messages alternating between partitions 0 and 1: partition 1 holds the even sequences 2 … 40.
        for sequence in 1...40 {
            let subject = "lostdelivery.\(1 - sequence % 2)"
            let ack = try client.publish(subject: subject, bytes: Array("m\(sequence)".utf8), messageID: "l\(sequence)")
                .get()
            #expect(ack.sequence == UInt64(sequence))
        }
        var feed = NATSStreamFeed(
            url: server.url, stream: spec, subject: "lostdelivery.1", durable: "lostdelivery", contiguous: false)
        feed.resume(after: 0)
        var sequences: [UInt64] = []
        func take(_ fetch: FeedFetch) {
            if case .messages(let messages) = fetch { sequences += messages.map(\.sequence) }
        }
        // A whole batch: the fetch is settled, the same consumer and subscription serve the next one.
        take(feed.fetch(maxMessages: 5, timeoutMilliseconds: 5_000))
        #expect(sequences == [2, 4, 6, 8, 10])

        // Another inbox asks the consumer for 3 messages: its deliveries 6 to 8 (sequences 12, 14 and 16) go there.
        var thief: OpaquePointer?
        #expect(natsConnection_SubscribeSync(&thief, client.connection, "lostdelivery.elsewhere") == NATS_OK)
        let stolen = try #require(thief)
        defer { natsSubscription_Destroy(stolen) }
        _ = natsConnection_PublishRequestString(
            client.connection, "$JS.API.CONSUMER.MSG.NEXT.LOSTDELIVERY.lostdelivery", "lostdelivery.elsewhere",
            "{\"batch\":3}")
        #expect(waitUntil(seconds: 60) { Self.waiting(stolen) >= 3 }, "the other inbox took three deliveries")

        // The next fetch starts at delivery 9 (sequence 18): the gap makes the feed make its consumer again after
        // 10, so 12, 14 and 16 come, then the rest; an acknowledgement of a later one would have covered them.
        let deadline = Date().addingTimeInterval(60)
        while sequences.count < 20 && Date() < deadline {
            let fetch = feed.fetch(maxMessages: 5, timeoutMilliseconds: 1_000)
            if case .failed(let why) = fetch { Issue.record("the feed failed: \(why)") }
            take(fetch)
        }
        #expect(sequences == Array(stride(from: 2, through: 40, by: 2)), "each message of partition 1 once, in order")
        #expect(feed.lostDeliveries == 1)
        #expect(feed.redeliveries == 0)
    }
}
