import SendWatchPipeline

/// A connection to NATS made at first use, and the stream set up on it: what the fleet's publishers
/// (``NATSEventPublisher``, ``NATSAlertPublisher``) and readers (``NATSStreamFeed``) share.
///
/// No server answering is not an error to keep: ``client()`` tries again at the next call until one answers (a
/// broker down at the start is waited for like one that goes down later); once connected, the client
/// reconnects by itself. The stream is set up before the connection is first used, and again after
/// ``streamMayBeGone()`` (a restarted or new server may not have it).
struct StreamConnection {
    /// How an existing stream is treated.
    enum Setup {
        /// Created when missing, its settings brought to ours otherwise: the writers of the stream.
        case createOrUpdate
        /// Created when missing (so a reader may start before its writers), left as its writers made it
        /// otherwise.
        case createIfMissing
    }

    /// The server URL(s).
    let url: String
    /// How the client connects and waits.
    let settings: JetStreamClient.Settings
    /// The stream.
    let stream: StreamSpec
    /// How the stream is set up.
    let setup: Setup
    /// The connection, once made.
    private(set) var connection: JetStreamClient?
    private var streamReady = false

    /// A connection to `url` (not made yet) for `stream`.
    init(url: String, settings: JetStreamClient.Settings, stream: StreamSpec, setup: Setup) {
        self.url = url
        self.settings = settings
        self.stream = stream
        self.setup = setup
    }

    /// The client, connected now if it was not, with the stream set up if it was not.
    ///
    /// - Throws: ``FleetError`` `broker_unavailable` while no server answers, or what setting up the stream
    ///   throws.
    mutating func client() throws(FleetError) -> JetStreamClient {
        let client: JetStreamClient
        if let connected = connection {
            client = connected
        } else {
            client = try JetStreamClient(url: url, settings: settings)
            connection = client
        }
        if !streamReady {
            switch setup {
            case .createOrUpdate:
                try client.ensureStream(stream)
            case .createIfMissing:
                do throws(FleetError) {
                    _ = try client.streamState(stream.name)
                } catch {
                    // Missing (or unreadable: then creating it says why).
                    if error.isTransient { throw error }
                    try client.ensureStream(stream)
                }
            }
            streamReady = true
        }
        return client
    }

    /// The stream is set up again before the next use.
    mutating func streamMayBeGone() { streamReady = false }

    /// Publishes `bytes` to `subject` with `messageID` and waits for the acknowledgement: `unavailable` (the
    /// stream set up again before the next use) when the outcome is unknown, `refused` when the server refused.
    mutating func publish(subject: String, bytes: [UInt8], messageID: String) -> PublishOutcome {
        do throws(FleetError) {
            let ack = try client().publish(subject: subject, bytes: bytes, messageID: messageID).get()
            return .acknowledged(duplicate: ack.duplicate)
        } catch {
            return outcome(of: error)
        }
    }

    /// A publish's outcome: `unavailable` (the stream set up again before the next use) when it is unknown,
    /// `refused` when the server refused.
    mutating func outcome(of error: FleetError) -> PublishOutcome {
        if error.isTransient || error.code == .jetStreamUnavailable {
            streamMayBeGone()
            return .unavailable("\(error.code): \(error)")
        }
        return .refused("\(error.code): \(error)")
    }
}
