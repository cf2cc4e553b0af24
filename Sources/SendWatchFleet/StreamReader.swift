import CNATS

/// A durable pull consumer that starts at a given stream sequence and is acknowledged only when its owner says
/// so (``acknowledgeFetched()``), for readers whose own checkpoint decides where to resume (`detect`, `sink`).
///
/// At creation the durable consumer of that name is deleted and made again at the start sequence, with
/// acknowledge-all (an acknowledgement covers every earlier message) and a long acknowledgement wait, so that
/// the server's view of it (pending messages, acknowledgement floor) is the reader's progress, while the
/// reader's checkpoint stays the only authority on where to resume. One reader per durable name: a second
/// one would delete the first one's consumer.
///
/// Poll-style like ``PullConsumer``; one owner at a time. Memory: one fetch's messages, and the last message
/// fetched (kept to acknowledge).
public final class StreamReader {
    /// `natsSubscription *`, owned.
    let subscription: OpaquePointer
    /// The last message fetched and not yet acknowledged (`natsMsg *`, owned).
    private var lastFetched: OpaquePointer?
    /// The client whose connection the subscription uses.
    public let client: JetStreamClient
    /// How long the server waits for an acknowledgement before it delivers a message again: 10 minutes, far
    /// beyond a checkpoint interval.
    public static let ackWaitSeconds: Int64 = 600
    /// The most messages delivered and not acknowledged the server allows (a reader checkpoints before).
    public static let maxAckPending: Int64 = 1 << 20

    /// Deletes the durable consumer `durable` of `stream` if there is one and makes it again, delivering the
    /// messages of `subject` (wildcards allowed) from sequence `start` (at least 1) on.
    ///
    /// The consumer is made first and then bound (not made by the subscribe call), so that the client does not
    /// delete it when the subscription is taken down: the server keeps it (and shows the reader's lag) after the
    /// reader is gone.
    ///
    /// - Throws: ``FleetError`` `consume_failed` (no such stream, a name the server refuses), `consumer_contended`
    ///   (another reader made the consumer again meanwhile, ``makeConsumer(client:stream:subject:durable:start:)``)
    ///   or a transient code.
    public init(
        client: JetStreamClient, stream: String, subject: String, durable: String, start: UInt64
    ) throws(FleetError) {
        guard start >= 1, !durable.isEmpty, !durable.contains(".") else {
            throw FleetError(code: .invalidArgument, message: "durable name '\(durable)' or start \(start) unusable")
        }
        self.client = client
        var jsError = jsErrCode(rawValue: 0)
        // Not found is fine; anything else shows again when the consumer is made.
        _ = stream.withCString { s in durable.withCString { js_DeleteConsumer(client.context, s, $0, nil, &jsError) } }
        subscription = try Self.makeConsumer(
            client: client, stream: stream, subject: subject, durable: durable, start: start)
    }

    /// JetStream errors of a consumer made while one of that name exists with other settings: 10012 ("start
    /// sequence can not be updated", the general creation failure the server gives for it) and 10013 (name in use).
    static let contendedCodes: Set<Int> = [10012, 10013]

    /// Makes the durable consumer (without deleting one first) and binds a pull subscription to it.
    ///
    /// Just after the delete in ``init(client:stream:subject:durable:start:)`` a consumer of that name exists again
    /// only if another reader made it in between: two workers that both believe they hold one partition, for the
    /// moment a takeover takes (the one whose lease is gone learns it at its next renewal). That is thrown as
    /// `consumer_contended`, which readers try again later, not as the refusal `consume_failed` that ends a run.
    static func makeConsumer(
        client: JetStreamClient, stream: String, subject: String, durable: String, start: UInt64
    ) throws(FleetError) -> OpaquePointer {
        var jsError = jsErrCode(rawValue: 0)
        var sub: OpaquePointer?
        let status = stream.withCString { streamC in
            subject.withCString { subjectC in
                durable.withCString { durableC in
                    var config = jsConsumerConfig()
                    jsConsumerConfig_Init(&config)
                    config.Durable = durableC
                    config.FilterSubject = subjectC
                    config.DeliverPolicy = js_DeliverByStartSequence
                    config.OptStartSeq = start
                    config.AckPolicy = js_AckAll
                    config.AckWait = Self.ackWaitSeconds * 1_000_000_000
                    config.MaxAckPending = Self.maxAckPending
                    var info: UnsafeMutablePointer<jsConsumerInfo>?
                    let made = js_AddConsumer(&info, client.context, streamC, &config, nil, &jsError)
                    if let info { jsConsumerInfo_Destroy(info) }
                    guard made == NATS_OK else { return made }
                    // Bound to the consumer just made.
                    var options = jsSubOptions()
                    jsSubOptions_Init(&options)
                    options.Stream = streamC
                    options.Consumer = durableC
                    return js_PullSubscribe(&sub, client.context, subjectC, durableC, nil, &options, &jsError)
                }
            }
        }
        guard status == NATS_OK, let sub else {
            var error = fleetError(
                status, jetStream: jsError, fallback: .consumeFailed, doing: "cannot consume \(subject) of \(stream)")
            if let code = error.jetStreamCode, contendedCodes.contains(code) { error.code = .consumerContended }
            throw error
        }
        return sub
    }

    deinit {
        if let lastFetched { natsMsg_Destroy(lastFetched) }
        client.destroy(subscription: subscription)
    }

    /// Whether the subscription may receive messages no fetch will take (the last fetch's pull request may still
    /// be live at the server, ``pullFetch(_:batch:timeoutMilliseconds:keepLast:each:)``): then the reader must not
    /// fetch again, and its owner makes a new one (which makes the consumer again, ending that request).
    public private(set) var isSpent = false

    /// Fetches up to `batch` messages (1 to 4096), waiting at most `timeoutMilliseconds` for the first, without
    /// acknowledging them. Empty when none came.
    ///
    /// - Returns: per message its stream sequence, body and the messages pending after it.
    /// - Throws: ``FleetError`` `consume_failed` or a transient code; `consume_failed` when the reader
    ///   ``isSpent``.
    public func fetch(batch: Int, timeoutMilliseconds: Int) throws(FleetError) -> [StreamRecord] {
        guard !isSpent else {
            throw FleetError(code: .consumeFailed, message: "a spent reader cannot fetch: make a new one")
        }
        var out: [StreamRecord] = []
        // Spent until the fetch says otherwise (also when it throws).
        isSpent = true
        let result = try pullFetch(
            subscription, batch: batch, timeoutMilliseconds: timeoutMilliseconds, keepLast: true
        ) { _, record in out.append(record) }
        isSpent = !result.settled
        if let last = result.last {
            if let lastFetched { natsMsg_Destroy(lastFetched) }
            lastFetched = last
        }
        return out
    }

    /// Acknowledges every message fetched so far (acknowledge-all) and waits for the server's confirmation.
    ///
    /// - Throws: ``FleetError`` `consume_failed` or a transient code; the message is kept to try again.
    public func acknowledgeFetched() throws(FleetError) {
        guard let msg = lastFetched else { return }
        var jsError = jsErrCode(rawValue: 0)
        let status = natsMsg_AckSync(msg, nil, &jsError)
        guard status == NATS_OK else {
            throw fleetError(status, jetStream: jsError, fallback: .consumeFailed, doing: "acknowledgement failed")
        }
        natsMsg_Destroy(msg)
        lastFetched = nil
    }
}

@available(*, unavailable)
extension StreamReader: Sendable {}

/// One message a ``StreamReader`` fetched.
public struct StreamRecord: Sendable, Equatable {
    /// Its sequence number in the stream (0 when the client could not tell).
    public var sequence: UInt64
    /// Its body.
    public var payload: [UInt8]
    /// Messages the consumer had pending after it when it was delivered.
    public var pending: UInt64
    /// The number its subject ends in (`sendwatch.events.7`: 7), at most 1023; -1 when it ends in none.
    public var partition = -1
    /// The consumer's delivery sequence of it (1 for the first delivery of a consumer just made, one more for each
    /// delivery after, repeats included); 0 when the client could not tell.
    public var consumerSequence: UInt64 = 0
}
