import CNATS
public import SendWatchPipeline

/// The ``StateMessageStore`` of `detect`'s checkpoints in JetStream: a stream (file storage, one message kept per
/// subject) taking `sendwatch.state.<stream>.>`, read with `js_GetLastMsg`, written with `js_PublishMsg` and the
/// `Nats-Expected-Last-Subject-Sequence` header (the server refuses the write when the subject's last message is
/// not the one named: JetStream error 10071), cleaned with a subject-filtered `js_PurgeStream`.
///
/// Connects at first use, and again while no server answers, as ``NATSLeaseStore`` does; the stream is created
/// (or its settings brought to these) once per connection.
public final class NATSStateMessages: StateMessageStore {
    /// The stream's settings.
    public let spec: StreamSpec
    private let url: String
    private let settings: JetStreamClient.Settings
    private var client: JetStreamClient?

    /// The subjects of a state stream named `stream`: `sendwatch.state.<stream>.>`.
    public static func subjectRoot(stream: String) -> String { "sendwatch.state.\(stream)" }

    /// A store in the stream `stream` on the server(s) at `url` (not connected yet).
    public init(url: String, settings: JetStreamClient.Settings = .init(), stream: String, replicas: Int = 1) {
        self.url = url
        self.settings = settings
        var spec = StreamSpec(name: stream, subjects: [Self.subjectRoot(stream: stream) + ".>"], replicas: replicas)
        spec.maxMessagesPerSubject = 1
        self.spec = spec
    }

    public func last(subject: String) -> StateMessageRead {
        do throws(FleetError) {
            guard let (sequence, body) = try open().lastMessage(stream: spec.name, subject: subject) else {
                return .missing
            }
            return .message(sequence: sequence, body: body)
        } catch {
            return .unavailable("\(error.code): \(error)")
        }
    }

    public func publish(subject: String, body: [UInt8], expectedLastSequence: UInt64?) -> StateMessageWrite {
        let js: JetStreamClient
        do throws(FleetError) {
            js = try open()
        } catch {
            return .unavailable("\(error.code): \(error)")
        }
        var message: OpaquePointer?
        var status = body.withUnsafeBytes { bytes in
            subject.withCString {
                natsMsg_Create(
                    &message, $0, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                    Int32(bytes.count))
            }
        }
        guard status == NATS_OK, let message else {
            return .refused("cannot make a message of \(body.count) bytes for \(subject)")
        }
        defer { natsMsg_Destroy(message) }
        if let expectedLastSequence {
            // Set by hand: the client's option leaves out 0, which asks for a subject with no message.
            status = natsMsgHeader_Set(message, "Nats-Expected-Last-Subject-Sequence", "\(expectedLastSequence)")
            guard status == NATS_OK else { return .refused("cannot set the expected sequence of \(subject)") }
        }
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = Int64(settings.requestTimeoutMilliseconds)
        var jsError = jsErrCode(rawValue: 0)
        var ack: UnsafeMutablePointer<jsPubAck>?
        status = js_PublishMsg(&ack, js.context, message, &options, &jsError)
        if status == NATS_OK, let ack {
            defer { jsPubAck_Destroy(ack) }
            return .written(sequence: ack.pointee.Sequence)
        }
        let error = fleetError(status, jetStream: jsError, fallback: .publishFailed, doing: "cannot write \(subject)")
        if jsError == JSStreamWrongLastSequenceErr { return .conflict(error.message) }
        return error.isTransient || error.code == .jetStreamUnavailable
            ? .unavailable("\(error.code): \(error)") : .refused(error.message)
    }

    public func purge(filter: String, below sequence: UInt64) -> Bool {
        guard let js = try? open() else { return false }
        var jsError = jsErrCode(rawValue: 0)
        let status = filter.withCString { filterC in
            spec.name.withCString { streamC in
                var options = jsOptions()
                jsOptions_Init(&options)
                options.Wait = Int64(settings.requestTimeoutMilliseconds)
                options.Stream.Purge.Subject = filterC
                options.Stream.Purge.Sequence = sequence
                return js_PurgeStream(js.context, streamC, &options, &jsError)
            }
        }
        return status == NATS_OK
    }

    /// The connection, made now (and the stream set up) if there was none.
    private func open() throws(FleetError) -> JetStreamClient {
        if let client { return client }
        let connected = try JetStreamClient(url: url, settings: settings)
        try connected.ensureStream(spec)
        client = connected
        return connected
    }
}

@available(*, unavailable)
extension NATSStateMessages: Sendable {}
