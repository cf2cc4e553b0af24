public import SendWatchPipeline

/// `sendwatch ship`'s publisher: each event to its account's partition subject of a JetStream stream, with its
/// message id, waiting for the acknowledgement.
///
/// The client connects at the first publish, and again at the next one while no server answered (a broker
/// down at the start); once connected it reconnects by itself. The stream is created (or its settings brought
/// to ``stream``) before the first publish, and again after the broker was unreachable (a new server may not
/// have it). Unreachable and timed-out calls are
/// ``PublishOutcome/unavailable(_:)`` (the run repeats them); everything else the server refuses is
/// ``PublishOutcome/refused(_:)``.
public struct NATSEventPublisher: ShipPublisher {
    /// The server URL(s).
    public let url: String
    /// How the client connects and waits.
    public let settings: JetStreamClient.Settings
    /// The connection, once made.
    public private(set) var client: JetStreamClient?
    /// Which subject each account's events go to.
    public let partitioning: EventPartitioning
    /// The stream that takes them.
    public let stream: StreamSpec
    private var streamReady = false

    /// A publisher to `stream` (whose subjects must include `partitioning.streamSubject`).
    public init(
        url: String, settings: JetStreamClient.Settings = .init(), partitioning: EventPartitioning,
        stream: StreamSpec
    ) {
        self.url = url
        self.settings = settings
        self.partitioning = partitioning
        self.stream = stream
    }

    /// Publishes one event (see ``ShipPublisher``).
    public mutating func publish(_ message: ShipMessage) -> PublishOutcome {
        do throws(FleetError) {
            let client: JetStreamClient
            if let connected = self.client {
                client = connected
            } else {
                client = try JetStreamClient(url: url, settings: settings)
                self.client = client
            }
            if !streamReady {
                try client.ensureStream(stream)
                streamReady = true
            }
            let subject = partitioning.subject(ofAccount: message.account)
            let result: Result<PublishAck, FleetError> = message.payload.withUnsafeBytes { bytes in
                do throws(FleetError) {
                    return .success(try client.publish(subject: subject, payload: bytes, messageID: message.messageID))
                } catch {
                    return .failure(error)
                }
            }
            let ack = try result.get()
            return .acknowledged(duplicate: ack.duplicate)
        } catch {
            if error.isTransient {
                streamReady = false
                return .unavailable("\(error.code): \(error)")
            }
            return .refused("\(error.code): \(error)")
        }
    }
}
