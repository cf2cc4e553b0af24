/// One send event ready to publish: its JSON line, the account it is partitioned by and its message id. Made by
/// ``ShipRun`` only (its memberwise init is internal); a ``ShipPublisher`` reads it.
public struct ShipMessage: Sendable, Equatable {
    /// A stable function of the event's position in the log (see ``ShipRun``): the same when a restart
    /// parses the event again, so the broker drops the repeated publish.
    public var messageID: String
    /// The event's account, which decides its partition.
    public var account: String
    /// The event's record (``EventRecord``): the `sendwatch events` JSON object of the event, without the newline,
    /// with its merge key `host_max_time` as its last key.
    public var payload: [UInt8]
}

/// What a ``ShipPublisher`` did with one message.
public enum PublishOutcome: Sendable, Equatable {
    /// The broker stored it (or had stored it already: `duplicate`).
    case acknowledged(duplicate: Bool)
    /// The broker cannot be reached or did not answer in time; the outcome is unknown, and publishing the
    /// same message again later is safe. The text says why.
    case unavailable(String)
    /// The broker refused it (a stream limit, no stream for the subject, ...): publishing it again would
    /// not help. The text says why.
    case refused(String)
}

/// Where `sendwatch ship` publishes events: NATS JetStream (`NATSEventPublisher` of SendWatchFleet) or a
/// test double. Called on the run's thread only, a window of messages at a time, in log order.
public protocol ShipPublisher {
    /// The most messages one ``publish(_:)`` takes (at least 1): how many publishes may wait for their
    /// acknowledgement at once.
    var windowSize: Int { get }

    /// Publishes `messages` (at most ``windowSize``, in log order) without waiting for each, then waits for the
    /// broker's answer to every one.
    ///
    /// - Returns: one outcome per message, in the order given.
    mutating func publish(_ messages: ArraySlice<ShipMessage>) -> [PublishOutcome]
}
