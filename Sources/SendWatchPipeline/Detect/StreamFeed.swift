public import SendWatchCore

/// One message a ``StreamFeed`` fetched.
public struct FeedMessage: Sendable, Equatable {
    /// Its sequence number in the stream (increasing; a repeated delivery repeats it).
    public var sequence: UInt64
    /// Its body.
    public var payload: [UInt8]
    /// How many messages the stream held after it for this reader when it was delivered (0: caught up).
    public var pending: UInt64
    /// The partition its subject names (`sendwatch.events.7`: 7; 0 to 1023), -1 when it names none.
    public var partition: Int
    /// The creation time of the event's account, when the first stage of several workers annotated it from its
    /// account registry (``ForwardedMessage``; nil otherwise): the engine takes it as a registry entry.
    public var accountCreated: EventTime?
    /// Where a restart reads it again from, for a feed whose resume point is a position in another stream than
    /// the one ``sequence`` numbers (``ForwardedFeed``: the forwarded stream's sequence of the message that
    /// carried it); 0 for a feed that resumes by ``sequence`` alone.
    public var position: UInt64 = 0

    /// A message.
    public init(sequence: UInt64, payload: [UInt8], pending: UInt64, partition: Int = -1) {
        self.sequence = sequence
        self.payload = payload
        self.pending = pending
        self.partition = partition
    }
}

/// Where a feed whose messages come from another stream than the one their sequences number resumes
/// (``ForwardedFeed``): the message of that stream to read again from, and what the feed knew just before it. Kept
/// in the run's checkpoint.
public struct FeedResumePoint: Codable, Sendable, Equatable {
    /// The first message (stream sequence, at least 1) read again.
    public var position: UInt64
    /// Per partition the watermark as of the message before ``position``.
    public var watermarks: [UInt64]

    /// A resume point.
    public init(position: UInt64, watermarks: [UInt64]) {
        self.position = position
        self.watermarks = watermarks
    }
}

/// What a fetch from a ``StreamFeed`` gave.
public enum FeedFetch: Sendable, Equatable {
    /// Messages in stream order (empty: none came within the timeout).
    case messages([FeedMessage])
    /// The broker cannot be reached or did not answer in time; fetching again later is safe. The text says why.
    case unavailable(String)
    /// The broker refused (no such stream, a consumer that cannot be made): trying again would not help.
    case failed(String)
}

/// The stream `sendwatch detect` (send events) and `sendwatch sink` (alerts) read: NATS JetStream
/// (`NATSStreamFeed` of SendWatchFleet) or a test double. Called on the run's thread only.
///
/// The run's checkpoint, not the broker, says where reading resumes: the run calls ``resume(after:)`` once with
/// the checkpoint's last sequence, and ``acknowledgeFetched()`` only after a checkpoint covers every message
/// fetched so far.
public protocol StreamFeed {
    /// Reading starts at the message after `sequence` (0: the stream's first).
    mutating func resume(after sequence: UInt64)
    /// Fetches up to `maxMessages` messages, waiting at most `timeoutMilliseconds` for the first.
    mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch
    /// Tells the broker that every message fetched so far is done with (its checkpoint is written). False when
    /// the broker could not be told (the run tells it again after its next checkpoint).
    mutating func acknowledgeFetched() -> Bool
    /// How many messages the stream holds after the last one delivered (after the resume point before the
    /// first), asked of the broker; nil when it cannot tell now. Asked only when a fetch came back empty before
    /// any message was delivered in this run, to tell a stream read to its end from a fetch that was lost.
    mutating func pendingAfterLastDelivered() -> UInt64?
    /// How many messages are still to come when a fetch delivered none, for a feed whose last delivered message's
    /// pending count can go stale without a new message (``ForwardedFeed``: later watermarks); nil: the last
    /// delivered message's count stands.
    mutating func pendingNow() -> UInt64?
    /// How many messages the stream holds in each partition (keyed by the number its subjects end in), asked of
    /// the broker; nil when it cannot tell now. Asked at most once per second, for the per-partition metrics.
    mutating func messagesPerPartition() -> [Int: UInt64]?
    /// Where a restart resumes, for a feed whose resume point is more than one sequence (``ForwardedFeed``): asked
    /// when the run writes its checkpoint, with the lowest ``FeedMessage/position`` of the messages the run took
    /// and still holds (`earliestHeld`; nil: it holds none), evaluated only by a feed that needs it (it costs
    /// O(held events)). nil: the sequence alone says it (or the feed cannot tell: it then reads from its stream's
    /// start).
    mutating func resumePoint(holding earliestHeld: @autoclosure () -> UInt64?) -> FeedResumePoint?
    /// ``resume(after:)``, from `point` (a ``resumePoint(holding:)`` of an earlier run) when it is given.
    mutating func resume(after sequence: UInt64, at point: FeedResumePoint?)
    /// The stream's name, for the metrics' `stream` label.
    var streamName: String { get }
    /// Messages the broker delivered again that the feed had delivered already, and skipped, since it was made.
    var redeliveries: Int { get }
    /// Times the feed made its consumer again because a fetch may have left its pull request live at the broker,
    /// since it was made (0 for a feed without a broker).
    var remakes: Int { get }
}

/// Where `sendwatch detect` publishes alert records: the alerts stream (`NATSAlertPublisher` of
/// SendWatchFleet) or a test double. Called on the run's thread only, one record at a time, in order.
public protocol AlertPublisher {
    /// Publishes one record (without its newline) with a message id the broker drops repeats of.
    mutating func publish(_ record: [UInt8], messageID: String) -> PublishOutcome
}

extension StreamFeed {
    /// 0: a feed without a broker to ask delivers what it has when asked, so an empty fetch means it is read.
    public mutating func pendingAfterLastDelivered() -> UInt64? { 0 }

    /// nil: the last delivered message's pending count stands.
    public mutating func pendingNow() -> UInt64? { nil }

    /// nil: a feed without a broker to ask has no per-partition counts.
    public mutating func messagesPerPartition() -> [Int: UInt64]? { nil }

    /// nil: the sequence says where to resume.
    public mutating func resumePoint(holding earliestHeld: @autoclosure () -> UInt64?) -> FeedResumePoint? { nil }

    /// ``resume(after:)``: the sequence says where to resume.
    public mutating func resume(after sequence: UInt64, at point: FeedResumePoint?) { resume(after: sequence) }

    /// 0: a feed without a broker has no consumer to make again.
    public var remakes: Int { 0 }
}

extension ErrorCode where Domain == TailError {
    /// The stream a worker or the sink reads cannot be read (no such stream, a consumer the broker refused).
    public static var consumeFailed: Self { Self("consume_failed") }
}
