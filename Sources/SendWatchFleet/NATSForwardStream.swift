public import SendWatchPipeline

/// `sendwatch forward`'s ``ForwardTarget``: the forwarded stream (created, or its settings brought to these, at
/// the first use of each connection), partition `N`'s events and watermarks on subject `<prefix>.N`, published
/// one at a time with their message ids and waiting for each acknowledgement. A partition's last watermark is
/// read with `js_GetLastMsg` on the subject `<prefix>.w.N`, where the watermarks go.
public struct NATSForwardStream: ForwardTarget {
    /// The forwarded stream.
    public var stream: StreamSpec { connection.stream }
    /// The subject prefix: events go to `<prefix>.e.N`, watermarks to `<prefix>.w.N`.
    public let prefix: String
    private var connection: StreamConnection
    private var window: JetStreamWindowPublisher?

    /// Events published at once by ``publish(_:partition:)-(_,Int)`` before waiting for their acknowledgements.
    public static let windowSize = 256

    /// The stream `stream` (its subjects: `<prefix>.>`) on the server(s) at `url`.
    public init(url: String, settings: JetStreamClient.Settings = .init(), stream: StreamSpec, prefix: String) {
        connection = StreamConnection(url: url, settings: settings, stream: stream, setup: .createOrUpdate)
        self.prefix = prefix
    }

    public mutating func publish(_ body: [UInt8], partition: Int, messageID: String) -> PublishOutcome {
        let kind = body.first == UInt8(ascii: "W") ? "w" : "e"
        return connection.publish(subject: "\(prefix).\(kind).\(partition)", bytes: body, messageID: messageID)
    }

    public mutating func publish(
        _ messages: [(body: [UInt8], messageID: String)], partition: Int
    ) -> [PublishOutcome] {
        do throws(FleetError) {
            let client = try connection.client()
            let window: JetStreamWindowPublisher
            if let made = self.window {
                window = made
            } else {
                window = try JetStreamWindowPublisher(client: client, maxPending: Self.windowSize)
                self.window = window
            }
            let subject = "\(prefix).e.\(partition)"
            let outgoing = messages.map { OutgoingMessage(subject: subject, payload: $0.body, messageID: $0.messageID) }
            return window.publish(outgoing).map { result in
                switch result {
                case .success(let ack): .acknowledged(duplicate: ack.duplicate)
                case .failure(let error): connection.outcome(of: error)
                }
            }
        } catch {
            return Array(repeating: connection.outcome(of: error), count: messages.count)
        }
    }

    public mutating func lastWatermark(partition: Int) -> WatermarkRead {
        do throws(FleetError) {
            let client = try connection.client()
            guard let (_, body) = try client.lastMessage(stream: stream.name, subject: "\(prefix).w.\(partition)")
            else { return .sequence(0) }
            guard case .watermark(let w) = ForwardedMessage(body) else { return .sequence(0) }
            return .sequence(w)
        } catch {
            connection.streamMayBeGone()
            return .unavailable("\(error.code): \(error)")
        }
    }
}

/// The events stream as `sendwatch forward` and `detect --forwarded-partitions` ask about it (``ForwardSource``):
/// its last sequence and its per-partition message counts, one request each.
public struct NATSStreamWatch: ForwardSource {
    /// The events' subject prefix: partition `N` is `<prefix>.N`.
    public let prefix: String
    private var connection: StreamConnection

    /// The stream `stream` at `url` (created if missing, as a reader does), its events on `<prefix>.N`.
    public init(url: String, settings: JetStreamClient.Settings = .init(), stream: StreamSpec, prefix: String) {
        connection = StreamConnection(url: url, settings: settings, stream: stream, setup: .createIfMissing)
        self.prefix = prefix
    }

    public mutating func lastSequence(inPartition partition: Int) -> UInt64? {
        do throws(FleetError) {
            let subject = "\(prefix).\(partition)"
            return try connection.client().lastMessage(stream: connection.stream.name, subject: subject)?.0 ?? 0
        } catch {
            connection.streamMayBeGone()
            return nil
        }
    }

    public mutating func lastSequence() -> UInt64? {
        do throws(FleetError) {
            return try connection.client().streamState(connection.stream.name).lastSequence
        } catch {
            connection.streamMayBeGone()
            return nil
        }
    }

    public mutating func messagesPerPartition() -> [Int: UInt64]? {
        do throws(FleetError) {
            return try connection.client().partitionCounts(connection.stream.name, filter: prefix + ".*")
        } catch {
            connection.streamMayBeGone()
            return nil
        }
    }
}
