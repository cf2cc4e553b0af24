public import SendWatchCore
public import SendWatchFormats

/// Writes each event as one JSON line (`sendwatch events`).
public struct JSONLinesEventSink: EventSink {
    private var writer = JSONWriter(capacity: 64 * 1024)
    private let output: OutputWriter

    public init(output: OutputWriter) { self.output = output }

    public mutating func accept(_ batch: inout EventBatch) {
        for event in batch {
            event.writeJSONLine(to: &writer)
        }
        if writer.bytes.count >= 32 * 1024 { drain() }
    }

    public mutating func flush() {
        drain()
        output.flush()
    }

    private mutating func drain() {
        output.buffer.append(contentsOf: writer.bytes)
        writer.reset()
        output.flushIfFull()
    }
}

/// Counts events and drops them (`sendwatch events --count-only`).
///
/// Its ``eventOutput`` is ``EventOutput/countOnly``: parsers that support it (Postfix) only count their events
/// and hand none here, so the run's ``RunSummary/events`` is the total.
public struct CountingEventSink: EventSink {
    public static var eventOutput: EventOutput { .countOnly }
    /// Events handed to the sink (by parsers without a count-only mode).
    public private(set) var count = 0
    public init() {}
    public mutating func accept(_ batch: inout EventBatch) { count += batch.count }
    public mutating func flush() {}
}

/// Keeps every event in memory; for tests and small inputs.
public struct CollectingEventSink: EventSink {
    /// The events, in order.
    public private(set) var events: [SendEvent] = []
    public init() {}
    public mutating func accept(_ batch: inout EventBatch) { events.append(contentsOf: batch) }
    public mutating func flush() {}
}
