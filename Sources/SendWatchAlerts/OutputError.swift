public import SendWatchCore
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An operational failure of an output: it could not be opened, written, synced or read back.
///
/// Shaped like `IngestError` (a code from an open set, a message, the path, the `errno`), so that a caller
/// decides on the code and the `errno` and never on the wording: a reader that went away (`EPIPE`) is
/// ``isBrokenPipe``.
///
/// New codes may be added in later versions, so switch over ``code`` with a `default` branch.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. An open set: compare with the static members, e.g. `.writeFailed`.
    public typealias Code = ErrorCode<OutputError>

    /// What kind of failure this is.
    public var code: Code
    /// What failed, in words (without the path, which ``description`` adds).
    public var message: String
    /// The output's name: a path, or `<stdout>`.
    public var path: String
    /// The `errno` value the system reported, if any.
    public var underlyingErrno: Int32?

    /// Creates an error.
    public init(code: Code, message: String, path: String, underlyingErrno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.underlyingErrno = underlyingErrno
    }

    /// Whether the reader of the output went away (`EPIPE`): retrying cannot help.
    public var isBrokenPipe: Bool { underlyingErrno == EPIPE }

    /// One line: the output, what failed and the system's reason, e.g. `output /var/log/alerts.jsonl: cannot
    /// write (No space left on device, errno 28)`.
    public var description: String {
        var text = "output \(path): \(message)"
        if let underlyingErrno { text += " (\(errnoDescription(underlyingErrno)))" }
        return text
    }
}

extension ErrorCode where Domain == OutputError {
    /// The output could not be opened or examined (missing directory, no permission, ...).
    public static var openFailed: Self { Self("open_failed") }
    /// A write failed (full disk, closed pipe, ...); the records not written are kept for a retry.
    public static var writeFailed: Self { Self("write_failed") }
    /// `fsync(2)` failed: what was written may not be on disk.
    public static var syncFailed: Self { Self("sync_failed") }
    /// A partial last record left by a crash could not be cut off.
    public static var truncateFailed: Self { Self("truncate_failed") }
}
