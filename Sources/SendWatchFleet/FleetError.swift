public import SendWatchCore

/// Why a NATS JetStream call of the fleet failed.
///
/// Shaped like `TailError` and `IngestError`: a ``code`` from an open set to decide on (and to log), a message
/// that says what failed and what to do, and the NATS C client's status and JetStream error code when it gave
/// them. New codes may be added in later versions, so switch over ``code`` with a `default` branch.
public struct FleetError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. An open set: compare with the static members, e.g. `.publishFailed`.
    public typealias Code = ErrorCode<FleetError>

    /// What kind of failure this is.
    public var code: Code
    /// What failed, and what to do.
    public var message: String
    /// The NATS C client's status (`natsStatus`, e.g. 26 for a timeout), if the client gave one.
    public var natsStatus: Int?
    /// The JetStream API's error code (e.g. 10059: stream not found), if the server gave one.
    public var jetStreamCode: Int?

    /// Creates an error.
    public init(code: Code, message: String, natsStatus: Int? = nil, jetStreamCode: Int? = nil) {
        self.code = code
        self.message = message
        self.natsStatus = natsStatus
        self.jetStreamCode = jetStreamCode
    }

    /// The message.
    public var description: String { message }

    /// Whether trying again later can succeed (the broker is unreachable or slow), as opposed to a request the
    /// server refused.
    public var isTransient: Bool {
        code == .brokerUnavailable || code == .timedOut
    }
}

extension ErrorCode where Domain == FleetError {
    /// An argument cannot be used (a URL, subject, stream name or bound out of range).
    public static var invalidArgument: Self { Self("invalid_argument") }
    /// No NATS server answered at the URL, or the connection is closed or reconnecting.
    public static var brokerUnavailable: Self { Self("broker_unavailable") }
    /// The server did not answer in time (a publish's acknowledgement, a JetStream request).
    public static var timedOut: Self { Self("timed_out") }
    /// The server has no JetStream (started without `-js`), or its JetStream API refused the request.
    public static var jetStreamUnavailable: Self { Self("jetstream_unavailable") }
    /// A stream could not be created or updated (its settings conflict with an existing one, ...).
    public static var streamSetupFailed: Self { Self("stream_setup_failed") }
    /// The server refused a publish (no stream takes the subject, a limit, ...).
    public static var publishFailed: Self { Self("publish_failed") }
    /// A consumer could not be created, or a fetch or acknowledgement failed.
    public static var consumeFailed: Self { Self("consume_failed") }
    /// A durable consumer was made again by another reader between this one's delete and create (two workers
    /// holding one partition for the moment of a takeover): trying again later succeeds once the stale one stops.
    public static var consumerContended: Self { Self("consumer_contended") }
}
