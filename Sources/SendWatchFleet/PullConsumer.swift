import CNATS

/// A pull consumer of a stream: fetches up to a batch of messages at a time and acknowledges each.
///
/// Poll-style: ``fetch(batch:timeoutMilliseconds:)`` blocks until messages came or the timeout passed. Keeps its
/// ``JetStreamClient`` alive; one owner at a time.
public final class PullConsumer {
    /// `natsSubscription *`, owned.
    private let subscription: OpaquePointer
    /// The client whose connection the subscription uses.
    public let client: JetStreamClient
    /// Whether every fetch so far finished its pull request (``PullFetchResult/settled``).
    private var settled = true

    /// Creates (or binds to) a pull consumer of the stream that takes `subject` (wildcards allowed).
    ///
    /// - Parameters:
    ///   - durable: the consumer's durable name (no `.`), kept by the server across restarts; nil makes an
    ///     ephemeral consumer that starts at the stream's first message.
    /// - Throws: ``FleetError`` `consume_failed` (no stream takes the subject, ...) or a transient code.
    public init(client: JetStreamClient, subject: String, durable: String? = nil) throws(FleetError) {
        self.client = client
        var jsError = jsErrCode(rawValue: 0)
        var sub: OpaquePointer?
        let status = subject.withCString { subjectC in
            if let durable {
                return durable.withCString { js_PullSubscribe(&sub, client.context, subjectC, $0, nil, nil, &jsError) }
            }
            return js_PullSubscribe(&sub, client.context, subjectC, nil, nil, nil, &jsError)
        }
        guard status == NATS_OK, let sub else {
            throw fleetError(
                status, jetStream: jsError, fallback: .consumeFailed, doing: "cannot consume \(subject)")
        }
        subscription = sub
    }

    deinit {
        natsSubscription_Destroy(subscription)
    }

    /// Fetches up to `batch` messages (1 to 4096), waiting at most `timeoutMilliseconds` for the first, and
    /// acknowledges each before returning it (an acknowledgement the server confirmed). Empty when none came.
    ///
    /// - Throws: ``FleetError`` `consume_failed` or a transient code; messages fetched before an
    ///   acknowledgement failed are redelivered by the server after its ack wait.
    ///
    /// After a fetch that may have left its pull request live at the server (it ended on its deadline, or failed),
    /// every later fetch takes at most 2 messages: the C client's fetch cannot overflow then
    /// (``pullFetch(_:batch:timeoutMilliseconds:keepLast:each:)``). For reading a stream that is complete (tests).
    public func fetch(batch: Int, timeoutMilliseconds: Int) throws(FleetError) -> [ReceivedMessage] {
        var out: [ReceivedMessage] = []
        let settled = self.settled
        self.settled = false
        let result = try pullFetch(
            subscription, batch: settled ? batch : min(batch, 2), timeoutMilliseconds: timeoutMilliseconds,
            keepLast: false
        ) {
            msg, record throws(FleetError) in
            var idC: UnsafePointer<CChar>?
            let id: String? =
                "Nats-Msg-Id".withCString { natsMsgHeader_Get(msg, $0, &idC) } == NATS_OK
                ? idC.map { String(cString: $0) } : nil
            var ackError = jsErrCode(rawValue: 0)
            let acked = natsMsg_AckSync(msg, nil, &ackError)
            guard acked == NATS_OK else {
                throw fleetError(acked, jetStream: ackError, fallback: .consumeFailed, doing: "acknowledgement failed")
            }
            out.append(
                ReceivedMessage(
                    subject: String(cString: natsMsg_GetSubject(msg)), payload: record.payload, messageID: id,
                    streamSequence: record.sequence))
        }
        self.settled = settled && result.settled
        return out
    }
}

@available(*, unavailable)
extension PullConsumer: Sendable {}

/// One message a ``PullConsumer`` fetched.
public struct ReceivedMessage: Sendable, Equatable {
    /// The subject it was published to.
    public var subject: String
    /// Its body.
    public var payload: [UInt8]
    /// Its `Nats-Msg-Id` header, if it had one.
    public var messageID: String?
    /// Its sequence number in the stream (0 when the client could not tell).
    public var streamSequence: UInt64
}
