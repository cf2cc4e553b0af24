public import SendWatchCore

/// Turns an alert into one record of an output format: a single line ending with a newline.
///
/// The seam between what detection produces (``Alert`` values) and what a reader of the output sees. An encoder
/// holds no state between records, so one value can encode for any number of ``AlertWriter``s. Encoders must
/// not write a raw newline inside a record: sinks and ``ExactlyOnceSink`` split batches into records at
/// newlines.
///
/// To add an output format: write a type conforming to this protocol (in `Encoders/`), and a case of
/// ``AlertFormat`` that makes it (the `--alert-format` flag lists those cases).
public protocol AlertEncoder: Sendable {
    /// Appends `alert` as one record, newline included, to `writer`.
    func encode(_ alert: Alert, into writer: inout JSONWriter)
}

/// The alert record formats `replay` and `tail` offer (`--alert-format`).
public enum AlertFormat: String, Sendable, CaseIterable {
    /// SendWatch's alert schema, version ``Alert/schemaVersion`` (``SendWatchV1Encoder``).
    case sendwatch
    /// OCSF Detection Finding, class 2004 (``OCSFEncoder``).
    case ocsf

    /// The encoder of this format.
    ///
    /// - Parameter productVersion: the SendWatch version, for formats that name the product (OCSF).
    public func makeEncoder(productVersion: String) -> any AlertEncoder {
        switch self {
        case .sendwatch: return SendWatchV1Encoder()
        case .ocsf: return OCSFEncoder(productVersion: productVersion)
        }
    }
}
