public import SendWatchCore

/// SendWatch's own alert schema, version ``Alert/schemaVersion`` (2; the type keeps the name it had at version
/// 1): one JSON object per line with a fixed key order (`v`, `id`, `action`, `kind`, ...), RFC 3339 UTC times
/// and numbers as numbers (``Alert/writeJSONLine(to:)``).
public struct SendWatchV1Encoder: AlertEncoder {
    /// Creates the encoder.
    public init() {}

    /// Appends `alert` as one line of SendWatch's alert schema.
    public func encode(_ alert: Alert, into writer: inout JSONWriter) {
        alert.writeJSONLine(to: &writer)
    }
}
