public import SendWatchPipeline

/// `sendwatch detect`'s and `sendwatch sink`'s feed: the messages of a JetStream stream, in stream order, from
/// the sequence the run's checkpoint names, through a ``StreamReader`` (a durable pull consumer made again at
/// that sequence at every start).
///
/// The client connects at the first fetch, and again while no server answered (a broker down at the start).
/// The stream is created when missing (with ``stream``'s settings), so a reader may start before its writers;
/// an existing stream's settings are left as its writers made them. A message whose sequence is not the one after the last delivered (a fetch lost
/// when the server restarted; its messages come back only after the acknowledgement wait) makes the feed
/// drop the rest of the batch and make the consumer again at the sequence expected; after that, a gap is
/// taken as the stream's own (messages removed by its limits) and counted in ``gaps``. After a fetch that may have
/// left its pull request live at the server (it ended on its deadline, or the connection dropped), the consumer is
/// made again before the next fetch (``remakes``): fetching on a subscription such a request still delivers to
/// overflows the C client (``StreamReader/isSpent``).
public struct NATSStreamFeed: StreamFeed {
    /// The stream read, created if missing.
    public var stream: StreamSpec { connection.stream }
    /// The subject filter (the stream's subjects, or some of them).
    public let subject: String
    /// The durable consumer's name.
    public let durable: String
    /// Whether `subject` takes every message of the stream, so that a delivered sequence that is not the one after
    /// the last means an out-of-order delivery; false for a feed of some subjects (one partition), whose messages
    /// are not consecutive in the stream: only a sequence at or before the last one delivered is then skipped, and
    /// a delivery lost is told by the consumer's own delivery numbers (``lostDeliveries``).
    public let contiguous: Bool
    private var connection: StreamConnection
    private var reader: StreamReader?
    /// The sequence of the last message delivered to the run.
    private var lastDelivered: UInt64 = 0
    /// Whether the reader was just made (the next message may skip a sequence the stream no longer has).
    private var fresh = true
    /// The consumer's delivery number of the last message fetched through the reader (0: none since it was made).
    private var lastConsumerSequence: UInt64 = 0
    /// Times a feed that is not contiguous found a delivery number skipped (a delivery lost) and made the consumer
    /// again after the last message delivered.
    public private(set) var lostDeliveries = 0
    /// Gaps in the stream's sequence taken as the stream's own.
    public private(set) var gaps = 0
    /// Messages delivered again (a sequence already delivered), skipped.
    public private(set) var redeliveries = 0
    /// Times the consumer was made again because a fetch may have left its pull request live at the server
    /// (``StreamReader/isSpent``).
    public private(set) var remakes = 0
    /// The stream's name.
    public var streamName: String { connection.stream.name }
    /// How long the durable consumer may stay contended (``FleetError/Code/consumerContended``: made again by
    /// another reader between this feed's delete and create) before a fetch fails: 120 s, far beyond the lease
    /// time in which a worker that lost its partition learns it and stops. Longer, something else keeps the
    /// consumer (another program using the name, or an account that may create consumers but not delete them).
    public var contentionLimitSeconds: Double = 120
    /// When the consumer was first found contended, since the last consumer made (monotonic).
    private var contendedSince: ContinuousClock.Instant?
    /// Makes the reader of `subject` of `stream` through `durable` from `start` (``StreamReader``'s delete and
    /// create); tests replace it to make the consumer contended for as long as they choose.
    var makeReader:
        (_ client: JetStreamClient, _ stream: String, _ subject: String, _ durable: String, _ start: UInt64)
            throws(FleetError) -> StreamReader = { client, stream, subject, durable, start throws(FleetError) in
                try StreamReader(client: client, stream: stream, subject: subject, durable: durable, start: start)
            }

    /// A feed of `subject` of `stream` through the durable consumer `durable`; `contiguous`: `subject` takes every
    /// message of the stream.
    public init(
        url: String, settings: JetStreamClient.Settings = .init(), stream: StreamSpec, subject: String,
        durable: String, contiguous: Bool = true
    ) {
        connection = StreamConnection(url: url, settings: settings, stream: stream, setup: .createIfMissing)
        self.subject = subject
        self.durable = durable
        self.contiguous = contiguous
    }

    public mutating func resume(after sequence: UInt64) {
        lastDelivered = sequence
        reader = nil
    }

    public mutating func fetch(maxMessages: Int, timeoutMilliseconds: Int) -> FeedFetch {
        do throws(FleetError) {
            if let spent = reader, spent.isSpent {
                // Its last pull request may still deliver (a fetch that ended on its deadline, or one sent while
                // the connection was down): the consumer is made again, which ends that request. Not while the
                // connection is down: taking the subscription down then would wait for the server.
                guard spent.client.isConnected else {
                    return .unavailable("\(FleetError.Code.brokerUnavailable): not connected to \(connection.url)")
                }
                reader = nil
                remakes += 1
            }
            let reader = try openReader()
            let records = try reader.fetch(batch: maxMessages, timeoutMilliseconds: timeoutMilliseconds)
            var out: [FeedMessage] = []
            out.reserveCapacity(records.count)
            for r in records {
                if !contiguous && r.consumerSequence != 0 {
                    // A partition's deliveries skip stream sequences, but the consumer numbers its deliveries one
                    // by one from 1: a number skipped is a delivery lost (a fetch lost in a broker restart), whose
                    // messages the acknowledgement of a later one would cover. Made again where the run is.
                    if r.consumerSequence != lastConsumerSequence + 1 {
                        self.reader = nil
                        lostDeliveries += 1
                        break
                    }
                    lastConsumerSequence = r.consumerSequence
                }
                if r.sequence <= lastDelivered {
                    redeliveries += 1
                    continue
                }
                if contiguous && r.sequence != lastDelivered + 1 {
                    if !fresh {
                        // Delivered out of order: make the consumer again where the run is.
                        self.reader = nil
                        break
                    }
                    gaps += 1
                }
                fresh = false
                lastDelivered = r.sequence
                out.append(
                    FeedMessage(sequence: r.sequence, payload: r.payload, pending: r.pending, partition: r.partition))
            }
            return .messages(out)
        } catch {
            if error.code == .consumerContended {
                // Another worker made the consumer again around a takeover; the one whose lease is gone stops at its
                // next renewal, so a later fetch makes it again here. Not for ever: see contentionLimitSeconds.
                let now = ContinuousClock.now
                let since = contendedSince ?? now
                contendedSince = since
                if since.duration(to: now) < .milliseconds(Int64(contentionLimitSeconds * 1000)) {
                    return .unavailable("\(error.code): \(error)")
                }
                return .failed(
                    "\(error.code) for \(Int(contentionLimitSeconds)) s: \(error); another process keeps making this "
                        + "durable consumer, or this account may create consumers but not delete them")
            }
            if error.isTransient || error.code == .jetStreamUnavailable {
                return .unavailable("\(error.code): \(error)")
            }
            return .failed("\(error.code): \(error)")
        }
    }

    public mutating func pendingAfterLastDelivered() -> UInt64? {
        do throws(FleetError) {
            let last = try connection.client().streamState(stream.name).lastSequence
            return last > lastDelivered ? last - lastDelivered : 0
        } catch {
            return nil
        }
    }

    public mutating func messagesPerPartition() -> [Int: UInt64]? {
        do throws(FleetError) {
            return try connection.client().partitionCounts(stream.name, filter: subject)
        } catch {
            return nil
        }
    }

    public mutating func acknowledgeFetched() -> Bool {
        guard let reader else { return true }
        do throws(FleetError) {
            try reader.acknowledgeFetched()
            return true
        } catch {
            return false
        }
    }

    private mutating func openReader() throws(FleetError) -> StreamReader {
        if let reader { return reader }
        // Checked at every new reader: one is made after a resume and after a server restart (which may have
        // lost the stream).
        connection.streamMayBeGone()
        let client = try connection.client()
        let made = try makeReader(client, stream.name, subject, durable, lastDelivered + 1)
        reader = made
        contendedSince = nil
        fresh = true
        lastConsumerSequence = 0
        return made
    }
}

/// `sendwatch detect`'s publisher: each alert record to the alerts subject of a JetStream stream with its
/// message id, waiting for the acknowledgement. Connects and creates the stream as ``NATSEventPublisher`` does.
public struct NATSAlertPublisher: AlertPublisher {
    /// The stream that takes the records.
    public var stream: StreamSpec { connection.stream }
    /// The subject the records go to.
    public let subject: String
    private var connection: StreamConnection

    /// A publisher to `subject` of `stream`.
    public init(url: String, settings: JetStreamClient.Settings = .init(), stream: StreamSpec, subject: String) {
        connection = StreamConnection(url: url, settings: settings, stream: stream, setup: .createOrUpdate)
        self.subject = subject
    }

    public mutating func publish(_ record: [UInt8], messageID: String) -> PublishOutcome {
        connection.publish(subject: subject, bytes: record, messageID: messageID)
    }
}
