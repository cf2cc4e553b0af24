import SendWatchCore

/// The events the streams parsed in one poll, encoded and tagged with their stream, until the run publishes
/// them. Bounded by one poll (``ShipOptions`` bounds the bytes a poll reads).
struct ShipSink: StreamEventSink {
    /// An event waiting to be published.
    struct Pending {
        var stream: Int
        var account: String
        var payload: [UInt8]
    }

    var pending: [Pending] = []
    private var current = 0
    private var writer = JSONWriter(capacity: 512)

    mutating func beginStream(_ index: Int) { current = index }

    mutating func accept(_ batch: inout EventBatch) {
        for event in batch {
            writer.reset()
            event.writeJSONLine(to: &writer)
            var bytes = writer.bytes
            if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            pending.append(Pending(stream: current, account: event.account, payload: bytes))
        }
    }

    mutating func flush() {}
}
