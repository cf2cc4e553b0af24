public import SendWatchCore

/// OCSF Detection Finding records (class 2004, schema ``Alert/ocsfVersion``), one JSON object per line
/// (``Alert/writeOCSFLine(to:productVersion:)`` holds the mapping).
public struct OCSFEncoder: AlertEncoder {
    /// The SendWatch version written as `metadata.product.version`.
    public var productVersion: String

    /// Creates the encoder.
    public init(productVersion: String) { self.productVersion = productVersion }

    /// Appends `alert` as one Detection Finding line.
    public func encode(_ alert: Alert, into writer: inout JSONWriter) {
        alert.writeOCSFLine(to: &writer, productVersion: productVersion)
    }
}
