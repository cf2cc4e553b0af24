public import SendWatchCore

/// Encodes alerts and hands them to a sink: the one path by which `replay` and `tail` write alerts.
///
/// Each call to ``write(_:)`` encodes a batch (the alerts one batch of events produced) into a reused buffer
/// and hands it to the sink in one call; ``flush()`` makes the sink deliver. What the sink does with a failure
/// is the caller's policy: `replay` stops writing and exits 2, `tail` stops reading input and retries.
///
/// Memory: one encoding buffer, as large as the largest batch of records so far.
///
/// Usage:
/// ```swift
/// var alerts = AlertWriter(encoder: AlertFormat.sendwatch.makeEncoder(productVersion: "0.1.0"),
///                          sink: OutputWriter.standardOutput())
/// try alerts.write(emitted)
/// try alerts.flush()
/// ```
public struct AlertWriter {
    /// How alerts become records.
    public let encoder: any AlertEncoder
    /// Where the records go.
    public let sink: any AlertSink
    private var records = JSONWriter(capacity: 16 * 1024)

    /// Creates a writer that encodes with `encoder` into `sink`.
    public init(encoder: any AlertEncoder, sink: any AlertSink) {
        self.encoder = encoder
        self.sink = sink
    }

    /// Encodes `alerts`, in order, and hands the records to the sink.
    ///
    /// - Throws: ``OutputError`` from the sink (the records are kept by the sink; ``flush()`` retries them).
    /// - Complexity: O(*n*) in the encoded size of the alerts.
    public mutating func write(_ alerts: [Alert]) throws(OutputError) {
        guard !alerts.isEmpty else { return }
        records.reset()
        for alert in alerts { encoder.encode(alert, into: &records) }
        let sink = self.sink
        let result = records.bytes.withUnsafeBytes { raw in Result { () throws(OutputError) in try sink.write(raw) } }
        try result.get()
    }

    /// Makes the sink deliver everything written so far.
    ///
    /// - Throws: ``OutputError``; the sink keeps what it could not deliver for the next call.
    public func flush() throws(OutputError) {
        try sink.flush()
    }
}

@available(*, unavailable)
extension AlertWriter: Sendable {}
