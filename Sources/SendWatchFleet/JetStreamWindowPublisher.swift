import CNATS
import Synchronization

/// One message of a window (``JetStreamWindowPublisher/publish(_:)``).
public struct OutgoingMessage: Sendable {
    /// A subject one stream takes.
    public var subject: String
    /// The message body (at most the server's `max_payload`, 1 MiB by default).
    public var payload: [UInt8]
    /// Stable id of the message (`Nats-Msg-Id`, at most ``JetStreamClient/maxMessageIDBytes`` bytes).
    public var messageID: String

    /// A message.
    public init(subject: String, payload: [UInt8], messageID: String) {
        self.subject = subject
        self.payload = payload
        self.messageID = messageID
    }
}

/// Publishes messages to JetStream a window at a time: every message of the window is sent without waiting
/// (the C client's asynchronous publish, `js_PublishMsgAsync`), then the window waits for all their
/// acknowledgements at once (`js_PublishAsyncComplete`). One round trip per window instead of one per message.
///
/// The acknowledgements arrive on the C client's thread; a small handler copies each (message id and outcome)
/// into a mutex-guarded mailbox and frees the message, and nothing else of Swift runs there. The owner's thread
/// matches them to the window by message id. A message without an answer within the request timeout is taken
/// back from the client (`js_PublishAsyncGetPendingList`: a late answer is then discarded) and reported
/// `timed_out`, so the caller can publish it again with the same id (the server drops it if it had it).
///
/// Memory: at most ``maxPending`` messages are in the client at once (their payloads copied into the client's
/// messages), and the mailbox holds at most one answer per message sent.
///
/// Usage:
/// ```swift
/// let client = try JetStreamClient(url: "nats://127.0.0.1:4222")
/// let window = try JetStreamWindowPublisher(client: client, maxPending: 256)
/// let results = window.publish(messages)   // one Result per message, in order
/// ```
public final class JetStreamWindowPublisher {
    /// The most messages one window may hold (1 to 65,536).
    public static let maxWindow = 65_536
    /// The connection the window publishes on.
    public let client: JetStreamClient
    /// The most messages of one ``publish(_:)``.
    public let maxPending: Int
    /// `jsCtx *` with the acknowledgement handler, owned; uses the client's connection.
    private let context: OpaquePointer
    private let mailbox: AckMailbox

    /// A window publisher on `client`'s connection.
    ///
    /// - Throws: ``FleetError`` `invalid_argument` for `maxPending` out of range, `jetstream_unavailable` when
    ///   the context cannot be made.
    public init(client: JetStreamClient, maxPending: Int) throws(FleetError) {
        guard (1...Self.maxWindow).contains(maxPending) else {
            throw FleetError(code: .invalidArgument, message: "a window must hold 1 to \(Self.maxWindow) messages")
        }
        self.client = client
        self.maxPending = maxPending
        mailbox = AckMailbox()
        var options = jsOptions()
        jsOptions_Init(&options)
        options.Wait = Int64(client.settings.requestTimeoutMilliseconds)
        options.PublishAsync.MaxPending = Int64(maxPending)
        options.PublishAsync.AckHandler = recordAcknowledgement
        // Retained for the life of the process: an answer being delivered on the client's thread may still use
        // the mailbox after this object is gone (one small object per window publisher).
        options.PublishAsync.AckHandlerClosure = Unmanaged.passRetained(mailbox).toOpaque()
        var js: OpaquePointer?
        let status = natsConnection_JetStream(&js, client.connection, &options)
        guard status == NATS_OK, let js else {
            throw fleetError(status, fallback: .jetStreamUnavailable, doing: "cannot open JetStream at \(client.url)")
        }
        context = js
    }

    deinit {
        var list = natsMsgList()
        if js_PublishAsyncGetPendingList(&list, context) == NATS_OK { natsMsgList_Destroy(&list) }
        jsCtx_Destroy(context)
    }

    /// Sends every message without waiting, then waits (up to the client's request timeout) for their answers.
    ///
    /// Messages reach the server in the order given. A message the client could not take (not connected and
    /// its reconnect buffer full, ...) or that got no answer in time fails with a transient code
    /// (``FleetError/isTransient``): publish it again with the same id.
    ///
    /// - Parameter messages: at most ``maxPending`` messages.
    /// - Returns: one result per message, in order: the stream's acknowledgement, or why it failed.
    /// - Complexity: O(messages); one round trip to the server for the whole window.
    public func publish(_ messages: [OutgoingMessage]) -> [Result<PublishAck, FleetError>] {
        precondition(messages.count <= maxPending, "a window holds at most maxPending messages")
        var results = [Result<PublishAck, FleetError>?](repeating: nil, count: messages.count)
        var index: [String: Int] = [:]
        index.reserveCapacity(messages.count)
        let timeout = Int64(client.settings.requestTimeoutMilliseconds)
        for (i, m) in messages.enumerated() {
            guard m.messageID.utf8.count <= JetStreamClient.maxMessageIDBytes, !m.messageID.isEmpty,
                m.payload.count <= Int(Int32.max)
            else {
                results[i] = .failure(
                    FleetError(code: .invalidArgument, message: "message id '\(m.messageID)' or payload out of range"))
                continue
            }
            var message: OpaquePointer?
            var status = m.subject.withCString { subject in
                m.payload.withUnsafeBytes { natsMsg_Create(&message, subject, nil, $0.baseAddress, Int32($0.count)) }
            }
            if status == NATS_OK {
                status = m.messageID.withCString { id in
                    var options = jsPubOptions()
                    jsPubOptions_Init(&options)
                    options.MsgId = id
                    options.MaxWait = timeout
                    // Takes the message (and clears `message`) when it succeeds.
                    return js_PublishMsgAsync(context, &message, &options)
                }
            }
            natsMsg_Destroy(message)
            guard status == NATS_OK else {
                var error = fleetError(status, fallback: .publishFailed, doing: "cannot publish to \(m.subject)")
                // The reconnect buffer is full while the server is away: as transient as the outage.
                if status == NATS_INSUFFICIENT_BUFFER { error.code = .brokerUnavailable }
                results[i] = .failure(error)
                continue
            }
            index[m.messageID] = i
        }
        if !index.isEmpty {
            var options = jsPubOptions()
            jsPubOptions_Init(&options)
            options.MaxWait = timeout
            if js_PublishAsyncComplete(context, &options) != NATS_OK {
                // Take back what has no answer yet: its answer, if it comes, is discarded; the caller repeats it.
                var list = natsMsgList()
                if js_PublishAsyncGetPendingList(&list, context) == NATS_OK { natsMsgList_Destroy(&list) }
            }
        }
        for answer in mailbox.take() {
            // An answer of an earlier window (delivered after it gave up on it) is not this window's business.
            guard let i = index[answer.messageID], results[i] == nil else { continue }
            results[i] = answer.result
        }
        return results.map {
            $0
                ?? .failure(
                    FleetError(
                        code: .timedOut,
                        message: "no acknowledgement within \(timeout) ms; the message is published again"))
        }
    }
}

@available(*, unavailable)
extension JetStreamWindowPublisher: Sendable {}

/// The answers the C client's thread hands to the window, taken by the owner's thread.
private final class AckMailbox: Sendable {
    struct Answer {
        var messageID: String
        var result: Result<PublishAck, FleetError>
    }

    private let answers = Mutex<[Answer]>([])

    func append(_ answer: Answer) { answers.withLock { $0.append(answer) } }

    func take() -> [Answer] {
        answers.withLock { all in
            defer { all = [] }; return all
        }
    }
}

/// The acknowledgement handler (`jsPubAckHandler`), run on the C client's thread: records the answer to one
/// message under its id, and frees the message (the handler owns it).
private func recordAcknowledgement(
    _ js: OpaquePointer?, _ message: OpaquePointer?, _ ack: UnsafeMutablePointer<jsPubAck>?,
    _ failure: UnsafeMutablePointer<jsPubAckErr>?, _ closure: UnsafeMutableRawPointer?
) {
    defer { natsMsg_Destroy(message) }
    guard let message, let closure else { return }
    var idC: UnsafePointer<CChar>?
    guard natsMsgHeader_Get(message, "Nats-Msg-Id", &idC) == NATS_OK, let idC else { return }
    let result: Result<PublishAck, FleetError>
    if let ack {
        result = .success(PublishAck(ack.pointee))
    } else if let failure {
        var error = fleetError(
            failure.pointee.Err, jetStream: failure.pointee.ErrCode, fallback: .publishFailed,
            doing: "the server did not store a message")
        if let text = failure.pointee.ErrText { error.message += ": " + String(cString: text) }
        result = .failure(error)
    } else {
        return
    }
    Unmanaged<AckMailbox>.fromOpaque(closure).takeUnretainedValue().append(
        AckMailbox.Answer(messageID: String(cString: idC), result: result))
}
