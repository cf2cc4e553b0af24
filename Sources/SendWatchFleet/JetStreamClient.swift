import CNATS

/// One connection to a NATS server and its JetStream context, through the official NATS C client.
///
/// Poll-style only: every call blocks the caller's thread until the server answers or the timeout passes, and
/// no C-thread callback ever enters Swift (the client's own threads read the socket and reconnect). One owner
/// at a time: the class is not `Sendable`.
///
/// After a lost connection the client reconnects in the background without end (every
/// ``Settings/reconnectWaitMilliseconds``); calls made meanwhile fail with `broker_unavailable` or
/// `timed_out` (``FleetError/isTransient``) and can simply be repeated. Messages written while reconnecting
/// wait in the client's reconnect buffer, bounded by ``Settings/reconnectBufferBytes``.
///
/// Usage:
/// ```swift
/// let client = try JetStreamClient(url: "nats://127.0.0.1:4222")
/// try client.ensureStream(StreamSpec(name: "SENDWATCH_EVENTS", subjects: ["sendwatch.events.*"]))
/// let ack = try client.publish(subject: "sendwatch.events.3", payload: bytes, messageID: "h1:…")
/// ```
public final class JetStreamClient {
    /// How the client connects and how long it waits.
    public struct Settings: Sendable {
        /// How long one connection attempt may take, in milliseconds. Default 2000.
        public var connectTimeoutMilliseconds = 2000
        /// How long a JetStream request (a publish's acknowledgement, a stream or consumer call) may take, in
        /// milliseconds. Default 5000.
        public var requestTimeoutMilliseconds = 5000
        /// Pause between reconnection attempts, in milliseconds. Default 250.
        public var reconnectWaitMilliseconds = 250
        /// Bytes of outgoing messages the client keeps while reconnecting (1 to 64 MiB). Default 1 MiB.
        public var reconnectBufferBytes = 1 << 20
        /// The connection's name, shown by the server's monitoring. Default `sendwatch`.
        public var name = "sendwatch"

        /// The defaults above.
        public init() {}
    }

    /// `natsConnection *`; also used by ``JetStreamWindowPublisher``'s context.
    let connection: OpaquePointer
    /// `jsCtx *`, owned; uses ``connection``.
    let context: OpaquePointer
    /// The settings the client was made with.
    public let settings: Settings
    /// The server URL as given.
    public let url: String

    /// Connects to `url` (`nats://host:port`, several separated by commas) and opens its JetStream context.
    ///
    /// - Throws: ``FleetError`` `invalid_argument` for bad settings, `broker_unavailable` when no server
    ///   answers (make a new client later: once connected, a client reconnects by itself).
    public init(url: String, settings: Settings = Settings()) throws(FleetError) {
        guard settings.connectTimeoutMilliseconds > 0, settings.requestTimeoutMilliseconds > 0,
            settings.reconnectWaitMilliseconds > 0, (1...(64 << 20)).contains(settings.reconnectBufferBytes)
        else {
            throw FleetError(code: .invalidArgument, message: "NATS client settings out of range: \(settings)")
        }
        self.url = url
        self.settings = settings
        var options: OpaquePointer?
        var status = natsOptions_Create(&options)
        guard status == NATS_OK, let options else {
            throw fleetError(status, fallback: .invalidArgument, doing: "cannot create NATS options")
        }
        defer { natsOptions_Destroy(options) }
        status = url.withCString { natsOptions_SetURL(options, $0) }
        if status == NATS_OK { status = settings.name.withCString { natsOptions_SetName(options, $0) } }
        if status == NATS_OK { status = natsOptions_SetTimeout(options, Int64(settings.connectTimeoutMilliseconds)) }
        if status == NATS_OK { status = natsOptions_SetMaxReconnect(options, -1) }
        if status == NATS_OK {
            status = natsOptions_SetReconnectWait(options, Int64(settings.reconnectWaitMilliseconds))
        }
        if status == NATS_OK { status = natsOptions_SetReconnectBufSize(options, Int32(settings.reconnectBufferBytes)) }
        guard status == NATS_OK else {
            throw fleetError(status, fallback: .invalidArgument, doing: "cannot use the NATS URL '\(url)'")
        }
        var nc: OpaquePointer?
        status = natsConnection_Connect(&nc, options)
        guard status == NATS_OK, let nc else {
            throw fleetError(status, fallback: .brokerUnavailable, doing: "cannot connect to NATS at \(url)")
        }
        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = Int64(settings.requestTimeoutMilliseconds)
        var js: OpaquePointer?
        status = natsConnection_JetStream(&js, nc, &jsOptions)
        guard status == NATS_OK, let js else {
            natsConnection_Destroy(nc)
            throw fleetError(status, fallback: .jetStreamUnavailable, doing: "cannot open JetStream at \(url)")
        }
        connection = nc
        context = js
    }

    /// Subscriptions taken down (unsubscribed) but not freed yet, because no round trip to the server proved
    /// since that the client's reading thread is done with them (``destroy(subscription:)``). At most
    /// ``maxRetiredSubscriptions``.
    private var retired: [OpaquePointer] = []
    /// The bound of subscriptions kept to free later; past it the oldest is left unfreed (a few hundred bytes each;
    /// it takes that many readers made again while the server did not answer).
    static let maxRetiredSubscriptions = 64

    deinit {
        // Closing joins the client's threads: no reading thread holds a subscription after it.
        natsConnection_Close(connection)
        for subscription in retired { natsSubscription_Destroy(subscription) }
        jsCtx_Destroy(context)
        natsConnection_Destroy(connection)
    }

    /// Takes down and frees a subscription of this connection (`natsSubscription *`, owned by the caller until now),
    /// without the race of `natsSubscription_Destroy` alone.
    ///
    /// libnats 3.4.1's reading thread looks a message's subscription up and then uses it without holding it
    /// (fixed in libnats 3.6.1): a subscription freed at that moment, e.g. while an earlier pull request still
    /// delivers to it, is used after it was freed. So the subscription is first unsubscribed (no message reaches it
    /// after that), then a round trip to the server (a flush) proves the reading thread has handled everything
    /// read before, and only then it is freed. When the flush fails (no server) it is kept and freed after a later
    /// successful flush, or when the client goes.
    func destroy(subscription: OpaquePointer) {
        _ = natsSubscription_Unsubscribe(subscription)
        retired.append(subscription)
        if natsConnection_FlushTimeout(connection, Int64(settings.requestTimeoutMilliseconds)) == NATS_OK {
            for subscription in retired { natsSubscription_Destroy(subscription) }
            retired.removeAll()
        } else if retired.count > Self.maxRetiredSubscriptions {
            retired.removeFirst()
        }
    }

    /// How many times ``ensureStream(_:)`` asks the server when it answers that the subjects overlap an existing
    /// stream (see there: a twin's concurrent add).
    static let streamSetupAttempts = 3

    /// Whether the connection is up now (false while it reconnects).
    public var isConnected: Bool { natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED }

    /// Creates the stream if it is missing, or updates its settings to `spec` (subjects, duplicate window,
    /// limits) if they differ. Idempotent: every agent and worker calls it at its start.
    ///
    /// - Throws: ``FleetError`` `stream_setup_failed` (e.g. the subjects overlap another stream's),
    ///   `jetstream_unavailable`, or a transient code.
    public func ensureStream(_ spec: StreamSpec) throws(FleetError) {
        guard spec.isValid else {
            throw FleetError(code: .invalidArgument, message: "stream settings out of range: \(spec)")
        }
        var jsError = jsErrCode(rawValue: 0)
        let status = spec.withConfig { config in
            var s = NATS_OK
            // Agents that start together on a fresh server add the same stream at the same moment; the server
            // may then answer one of them that its subjects overlap "an existing stream", the one its twin
            // just added under the same name. Asked again, it finds that stream by name. A real overlap (another
            // stream's subjects) gives the same answer every time and is reported after the last try.
            for _ in 0..<Self.streamSetupAttempts {
                var info: UnsafeMutablePointer<jsStreamInfo>?
                jsError = jsErrCode(rawValue: 0)
                s = js_AddStream(&info, context, config, nil, &jsError)
                if s != NATS_OK && jsError == JSStreamNameExistErr {
                    // There with other settings: bring them to ours.
                    jsError = jsErrCode(rawValue: 0)
                    s = js_UpdateStream(&info, context, config, nil, &jsError)
                }
                if let info { jsStreamInfo_Destroy(info) }
                guard s != NATS_OK && jsError == JSStreamSubjectOverlapErr else { break }
                nats_Sleep(50)
            }
            return s
        }
        guard status == NATS_OK else {
            throw fleetError(
                status, jetStream: jsError, fallback: .streamSetupFailed, doing: "cannot set up stream \(spec.name)")
        }
    }

    /// How many messages the stream holds and its last sequence number.
    ///
    /// - Throws: ``FleetError`` (`stream_setup_failed` with JetStream error 10059 when there is no such stream).
    public func streamState(_ name: String) throws(FleetError) -> StreamState {
        try withStreamInfo(name, subjectsFilter: nil) { info in
            StreamState(messages: info.State.Msgs, lastSequence: info.State.LastSeq)
        }
    }

    /// How many messages the stream holds on each subject that matches `filter` (e.g. `sendwatch.events.>`), by
    /// subject: one request answered by the server (at most as many entries as the stream has such subjects).
    ///
    /// - Throws: ``FleetError`` as ``streamState(_:)``.
    public func subjectCounts(_ name: String, filter: String) throws(FleetError) -> [String: UInt64] {
        try withStreamInfo(name, subjectsFilter: filter) { info in
            var counts: [String: UInt64] = [:]
            if let subjects = info.State.Subjects, let list = subjects.pointee.List {
                for i in 0..<Int(subjects.pointee.Count) {
                    guard let subject = list[i].Subject else { continue }
                    counts[String(cString: subject)] = list[i].Msgs
                }
            }
            return counts
        }
    }

    /// The last message of `subject` in `stream` (`js_GetLastMsg`): its sequence and body; nil when the subject
    /// has none.
    ///
    /// - Throws: ``FleetError`` as ``streamState(_:)``, or `consume_failed`.
    public func lastMessage(stream: String, subject: String) throws(FleetError) -> (UInt64, [UInt8])? {
        var message: OpaquePointer?
        var jsError = jsErrCode(rawValue: 0)
        let status = stream.withCString { streamC in
            subject.withCString { js_GetLastMsg(&message, context, streamC, $0, nil, &jsError) }
        }
        if status == NATS_NOT_FOUND || jsError == JSNoMessageFoundErr { return nil }
        guard status == NATS_OK, let message else {
            throw fleetError(status, jetStream: jsError, fallback: .consumeFailed, doing: "cannot read \(subject)")
        }
        defer { natsMsg_Destroy(message) }
        let length = Int(natsMsg_GetDataLength(message))
        let body = natsMsg_GetData(message).map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
        return (natsMsg_GetSequence(message), body)
    }

    /// ``subjectCounts(_:filter:)`` summed by the partition each subject's last token names (subjects naming none
    /// left out).
    public func partitionCounts(_ name: String, filter: String) throws(FleetError) -> [Int: UInt64] {
        var counts: [Int: UInt64] = [:]
        for (subject, n) in try subjectCounts(name, filter: filter) {
            let p = subject.withCString { subjectPartition($0) }
            if p >= 0 { counts[p, default: 0] += n }
        }
        return counts
    }

    /// Asks the server for stream `name`'s information (with its per-subject counts for the subjects matching
    /// `subjectsFilter`, when given), hands it to `body` and frees it.
    ///
    /// - Throws: ``FleetError`` as ``streamState(_:)``.
    private func withStreamInfo<Result>(
        _ name: String, subjectsFilter: String?, _ body: (jsStreamInfo) -> Result
    ) throws(FleetError) -> Result {
        var jsError = jsErrCode(rawValue: 0)
        var info: UnsafeMutablePointer<jsStreamInfo>?
        let status = name.withCString { nameC in
            guard let subjectsFilter else { return js_GetStreamInfo(&info, context, nameC, nil, &jsError) }
            return subjectsFilter.withCString { filterC in
                // Safe: the filter's C string lives until js_GetStreamInfo returns, which copies what it needs.
                var options = jsOptions()
                jsOptions_Init(&options)
                options.Stream.Info.SubjectsFilter = filterC
                return js_GetStreamInfo(&info, context, nameC, &options, &jsError)
            }
        }
        guard status == NATS_OK, let info else {
            throw fleetError(
                status, jetStream: jsError, fallback: .streamSetupFailed, doing: "cannot read stream \(name)")
        }
        defer { jsStreamInfo_Destroy(info) }
        return body(info.pointee)
    }

    /// Publishes one message with a message id (`Nats-Msg-Id`) and waits for the stream's acknowledgement.
    ///
    /// The server drops a message whose id it has seen within the stream's duplicate window and says so
    /// (``PublishAck/duplicate``): repeating a publish whose outcome is unknown is safe within that window.
    ///
    /// - Parameters:
    ///   - subject: a subject one stream takes.
    ///   - payload: the message body (at most the server's `max_payload`, 1 MiB by default).
    ///   - messageID: stable id of the message (at most ``maxMessageIDBytes`` bytes).
    /// - Throws: ``FleetError`` `publish_failed` when the server refused it, `timed_out` or
    ///   `broker_unavailable` when the outcome is unknown (publish again with the same id).
    public func publish(
        subject: String, payload: UnsafeRawBufferPointer, messageID: String
    ) throws(FleetError) -> PublishAck {
        guard messageID.utf8.count <= Self.maxMessageIDBytes, !messageID.isEmpty, payload.count <= Int(Int32.max) else {
            throw FleetError(code: .invalidArgument, message: "message id '\(messageID)' or payload size out of range")
        }
        var jsError = jsErrCode(rawValue: 0)
        var ack: UnsafeMutablePointer<jsPubAck>?
        let status = subject.withCString { subjectC in
            messageID.withCString { idC in
                var options = jsPubOptions()
                jsPubOptions_Init(&options)
                options.MsgId = idC
                options.MaxWait = Int64(settings.requestTimeoutMilliseconds)
                return js_Publish(
                    &ack, context, subjectC, payload.baseAddress, Int32(payload.count), &options, &jsError)
            }
        }
        guard status == NATS_OK, let ack else {
            throw fleetError(
                status, jetStream: jsError, fallback: .publishFailed, doing: "cannot publish to \(subject)")
        }
        defer { jsPubAck_Destroy(ack) }
        return PublishAck(ack.pointee)
    }

    /// ``publish(subject:payload:messageID:)`` of an array's bytes, its outcome as a value (for callers that
    /// collect the outcomes of several publishes).
    public func publish(subject: String, bytes: [UInt8], messageID: String) -> Result<PublishAck, FleetError> {
        bytes.withUnsafeBytes { payload in
            do throws(FleetError) {
                return .success(try publish(subject: subject, payload: payload, messageID: messageID))
            } catch {
                return .failure(error)
            }
        }
    }

    /// The longest message id ``publish(subject:payload:messageID:)`` takes, in bytes.
    public static let maxMessageIDBytes = 256
}

@available(*, unavailable)
extension JetStreamClient: Sendable {}

/// What the stream said to a publish. Made by the client only (its memberwise init is internal).
public struct PublishAck: Sendable, Equatable {
    /// The stream sequence of the message (of the first copy, for a duplicate).
    public var sequence: UInt64
    /// Whether the server had seen the message id within the duplicate window and dropped this copy.
    public var duplicate: Bool
}

extension PublishAck {
    /// The acknowledgement the C client gave (a `jsPubAck`, to a publish that waited or to one of a window).
    init(_ ack: jsPubAck) { self.init(sequence: ack.Sequence, duplicate: ack.Duplicate) }
}

/// A stream's size. Made by the client only (its memberwise init is internal).
public struct StreamState: Sendable, Equatable {
    /// Messages held.
    public var messages: UInt64
    /// The sequence number of the last message (0 for an empty stream).
    public var lastSequence: UInt64
}
