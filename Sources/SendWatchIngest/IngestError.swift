public import SendWatchCore

/// An operational failure while opening or reading an input: the file could not be opened or read, or its
/// compressed data is damaged.
///
/// Bad *lines* are never errors (the framer and the parsers count them); an `IngestError` means the input
/// itself cannot be read any further. Every error names the file, the byte offset in the raw (still
/// compressed) file where the problem was found when there is one, the `errno` when the system reported
/// one, and what to do about it.
///
/// New codes may be added in later versions, so switch over ``code`` with a `default` branch.
public struct IngestError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is. An open set: compare with the static members, e.g. `.corruptCompressedData`.
    public typealias Code = ErrorCode<IngestError>

    /// What kind of failure this is.
    public var code: Code
    /// What failed, in words (without the path, which ``description`` adds).
    public var message: String
    /// The path as given to ``InputSource/open(path:)`` (`-` for standard input).
    public var path: String
    /// The offset in the raw file (the compressed bytes, for a compressed file) where the problem was found,
    /// or `nil` when the failure is not tied to a position (e.g. opening).
    public var byteOffset: Int64?
    /// The `errno` value the system reported, if any.
    public var underlyingErrno: Int32?

    /// Creates an error. Normally only ``InputSource`` creates these.
    public init(code: Code, message: String, path: String, byteOffset: Int64? = nil, underlyingErrno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.byteOffset = byteOffset
        self.underlyingErrno = underlyingErrno
    }

    /// One line: the file, the offset, what failed, the system's reason, and what to do.
    ///
    /// For example: `ingest error (corrupt_compressed_data): /var/log/mail.log.1.zst at byte 1048576: zstd
    /// rejected the data (Data corruption detected). The data decoded before this offset was read (…); the rest
    /// of the file is skipped - restore it from a backup or skip it (…).`
    public var description: String {
        var text = "ingest error (\(code)): \(path == "-" ? "<stdin>" : path)"
        if let byteOffset { text += " at byte \(byteOffset)" }
        text += ": \(message)"
        if let underlyingErrno { text += " (\(errnoDescription(underlyingErrno)))" }
        text += ". " + advice
        return text
    }

    private var advice: String {
        switch code {
        case .openFailed: return "Check that the file exists and is readable by this user."
        case .readFailed: return "Check the disk and the file system; the file could not be read from this point."
        case .notARegularFile: return "Pass a regular file, a FIFO, or - for standard input."
        case .corruptCompressedData:
            return "The data decoded before this offset was read (a decoder may find damage only at the end of a "
                + "block or gzip member, so lines just before it may be garbled: they are counted as not recognised); "
                + "the rest of the file is skipped - restore it from a backup or skip it (zstd -t, gzip -t, xz -t, "
                + "bzip2 -t or lz4 -t show the damage)."
        case .truncatedCompressedData:
            return "Lines before this offset were read; the file was cut off or is still being written - "
                + "read it again once it is complete."
        case .decoderUnavailable: return "The system is probably out of memory; retry with fewer inputs at once."
        case .unsupportedCompression:
            return
                "Decompress it first and pass the result (e.g. through standard input: zcat FILE | sendwatch replay -)."
        case .invalidConfiguration: return "Fix the listed values and start again."
        default: return "See the message for details."
        }
    }
}

extension ErrorCode where Domain == IngestError {
    /// The file could not be opened (missing, no permission, too many open files, ...).
    public static var openFailed: Self { Self("open_failed") }
    /// A `read(2)` failed with an error other than `EINTR`.
    public static var readFailed: Self { Self("read_failed") }
    /// The path names something that is neither a regular file nor a FIFO (a directory, a device, ...).
    public static var notARegularFile: Self { Self("not_a_regular_file") }
    /// The compressed data is damaged: the decoder rejected it at ``IngestError/byteOffset``.
    public static var corruptCompressedData: Self { Self("corrupt_compressed_data") }
    /// The input ended in the middle of a compressed frame or gzip member.
    public static var truncatedCompressedData: Self { Self("truncated_compressed_data") }
    /// A decoder could not be created (out of memory).
    public static var decoderUnavailable: Self { Self("decoder_unavailable") }
    /// The input is compressed in a format SendWatch recognises but does not read (`compress`, lzip, legacy
    /// LZ4); see ``Compression/unsupported(name:)``.
    public static var unsupportedCompression: Self { Self("unsupported_compression") }
    /// A configuration value is out of range (e.g. a ``FollowConfiguration`` field); nothing was opened.
    public static var invalidConfiguration: Self { Self("invalid_configuration") }
}
