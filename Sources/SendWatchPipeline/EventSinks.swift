public import SendWatchAlerts
public import SendWatchCore
public import SendWatchFormats

/// Writes each event as one JSON line (`sendwatch events`).
///
/// Lines are gathered into 32 KiB pieces and handed to the output, which writes large batches. After the first
/// failed write nothing more is written: the run goes on to its summary and the command exits 2 with
/// ``outputFailure``.
public struct JSONLinesEventSink: EventSink {
    private var writer = JSONWriter(capacity: 64 * 1024)
    private let output: OutputWriter
    /// The first failure of the output; nothing was written after it.
    public private(set) var outputFailure: OutputError?

    /// Creates the sink.
    public init(output: OutputWriter) { self.output = output }

    public mutating func accept(_ batch: inout EventBatch) {
        for event in batch {
            event.writeJSONLine(to: &writer)
        }
        if writer.bytes.count >= 32 * 1024 { drain() }
    }

    public mutating func flush() {
        drain()
        outputFailure = .first(outputFailure) { () throws(OutputError) in try output.flush() }
    }

    private mutating func drain() {
        defer { writer.reset() }
        let output = self.output
        outputFailure = .first(outputFailure) { () throws(OutputError) in
            try writer.bytes.withUnsafeBytes { raw in Result { () throws(OutputError) in try output.write(raw) } }.get()
        }
    }
}

extension OutputError {
    /// The failure of an output that writes nothing after its first one (the event and alert sinks): `earlier`
    /// when there is one, and then `attempt` is not run; else what `attempt` throws, or `nil`.
    static func first(_ earlier: OutputError?, else attempt: () throws(OutputError) -> Void) -> OutputError? {
        if let earlier { return earlier }
        do throws(OutputError) {
            try attempt()
            return nil
        } catch {
            return error
        }
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
