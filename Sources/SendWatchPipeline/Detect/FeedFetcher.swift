import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How `detect` and `sink` fetch from their ``StreamFeed``.
public struct FeedFetching: Sendable {
    /// Messages per fetch (1 to 4096). Default 512.
    public var batch = 512
    /// How long a fetch waits for the first message, in milliseconds. Default 500.
    public var timeoutMilliseconds = 500
    /// The longest pause between two attempts while the broker is unreachable (doubling from 50 ms). Default 5.
    public var maxBackoffSeconds: Double = 5

    /// The defaults above.
    public init() {}
}

/// The fetch loop `detect` and `sink` share: one fetch at a time; while the broker is unreachable a pause (50 ms,
/// doubling up to ``FeedFetching/maxBackoffSeconds``), the outage logged once at its start and once at its end;
/// and whether the reader has caught up with the stream.
struct FeedFetcher {
    /// One fetch's outcome.
    enum Outcome {
        /// Messages in stream order (maybe none); `caughtUp`: the last message delivered had nothing after it,
        /// or none came and none was pending after the last one delivered (before any was delivered this run: the
        /// feed's ``StreamFeed/pendingAfterLastDelivered()`` said 0).
        case messages([FeedMessage], caughtUp: Bool)
        /// The broker was unreachable; the fetcher has paused before returning. Fetch again.
        case retry
    }

    let fetching: FeedFetching
    let logger: Logger
    /// What the outage warning says.
    let outageMessage: Logger.Message
    /// The metadata key of the outage's reason, e.g. `detect.reason`.
    let reasonKey: String
    /// How errors name the stream, e.g. `events stream`.
    let streamName: String
    /// Whether the broker was reported unreachable (so the outage and its end are logged once each).
    private(set) var outage = false
    /// Times the broker became unreachable.
    private(set) var outages = 0
    /// Fetches that found the broker unreachable (each repeated after a pause).
    private(set) var retries = 0
    private var backoff: Backoff
    /// The pending count of the last message delivered: messages after it (nil before the first).
    private(set) var lastPending: UInt64?

    init(fetching: FeedFetching, logger: Logger, outageMessage: Logger.Message, reasonKey: String, streamName: String) {
        self.fetching = fetching
        self.logger = logger
        self.outageMessage = outageMessage
        self.reasonKey = reasonKey
        self.streamName = streamName
        backoff = Backoff(maxSeconds: fetching.maxBackoffSeconds)
    }

    /// Fetches once from `feed`; `wait` waits out the pause after an unreachable broker.
    ///
    /// - Throws: ``TailError`` `consume_failed` when the broker refused (trying again would not help).
    mutating func next<Feed: StreamFeed>(from feed: inout Feed, wait: (Double) -> Void = FleetPause.sleep)
        throws(TailError) -> Outcome
    {
        switch feed.fetch(maxMessages: fetching.batch, timeoutMilliseconds: fetching.timeoutMilliseconds) {
        case .messages(let messages):
            if outage {
                outage = false
                logger.info("the broker is reachable again; catching up")
            }
            backoff.reset()
            if let last = messages.last {
                lastPending = last.pending
            } else if let now = feed.pendingNow() {
                lastPending = now
            }
            let caughtUp: Bool
            if let lastPending {
                caughtUp = lastPending == 0
            } else {
                // Nothing delivered yet this run, and none came (a consumer just made, a fetch lost in a broker
                // restart): caught up only if the broker says nothing is there to read.
                caughtUp = feed.pendingAfterLastDelivered() == 0
            }
            return .messages(messages, caughtUp: caughtUp)
        case .unavailable(let why):
            retries += 1
            noteOutage(why)
            backoff.pause(wait)
            return .retry
        case .failed(let why):
            throw TailError(code: .consumeFailed, message: "cannot read the \(streamName): \(why)")
        }
    }

    /// The consumer's figures now: `feed`'s stream, redeliveries and remakes, the lag the last message gave, outages.
    func figures<Feed: StreamFeed>(of feed: Feed, lastSequence: UInt64, acknowledgements: Int) -> ConsumerFigures {
        var f = ConsumerFigures()
        f.stream = feed.streamName
        f.pendingMessages = lastPending ?? 0
        f.lastSequence = lastSequence
        f.acknowledgements = acknowledgements
        f.redeliveries = feed.redeliveries
        f.remakes = feed.remakes
        f.outages = outages
        return f
    }

    /// Logs an outage (once, until a fetch succeeds again).
    mutating func noteOutage(_ why: String) {
        guard !outage else { return }
        outage = true
        outages += 1
        logger.warning(outageMessage, metadata: [reasonKey: "\(why)"])
    }
}

/// The pause between attempts while the broker is unreachable: 50 ms, doubling up to a bound, back to 50 ms
/// after a success.
struct Backoff {
    /// The longest pause, in seconds.
    let maxSeconds: Double
    private var delay = 0.05

    /// A backoff whose pauses grow to `maxSeconds`.
    init(maxSeconds: Double) { self.maxSeconds = maxSeconds }

    /// Sleeps the current pause, then doubles it (up to ``maxSeconds``).
    mutating func pause() { pause(FleetPause.sleep) }

    /// Waits the current pause with `wait` (seconds; a scripted clock in tests), then doubles it (up to
    /// ``maxSeconds``).
    mutating func pause(_ wait: (Double) -> Void) {
        wait(delay)
        delay = min(delay * 2, maxSeconds)
    }

    /// The next pause is the first again.
    mutating func reset() { delay = 0.05 }
}

/// The real wait of the fleet workers' pauses, the default of their `wait` parameters (tests pass a scripted clock's).
public enum FleetPause {
    /// Sleeps `seconds`.
    public static func sleep(_ seconds: Double) { usleep(useconds_t(max(0, seconds) * 1_000_000)) }
}
