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
    /// Per host the greatest event time so far, which gives each record its `host_max_time` in the order the events
    /// come, which is the order they are published in. Checkpointed by the run.
    var maxima = HostTimeMaxima()
    private var current = 0
    private var writer = JSONWriter(capacity: 512)

    mutating func beginStream(_ index: Int) { current = index }

    mutating func accept(_ batch: inout EventBatch) {
        for event in batch {
            writer.reset()
            let key = maxima.key(for: event)
            // Written from the event itself: a record made of it would be one more copy of the event.
            EventRecord.write(event, hostMaxTime: key, to: &writer)
            pending.append(Pending(stream: current, account: event.account, payload: writer.bytes))
        }
    }

    mutating func flush() {}
}
