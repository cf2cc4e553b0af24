import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output, or a file appended to: the sink of `replay` and `tail` alerts and of `sendwatch events`
/// lines. Writes large batches, retrying short writes and `EINTR`.
///
/// Records are buffered and written out when the buffer passes ``flushThreshold`` and at ``flush()``: every
/// `write(2)` carries whole records, so a reader never sees half a line unless the process dies inside that
/// call. A write that fails keeps the bytes not written, in order, for the next ``flush()``.
///
/// A regular file can be read back (``position``, ``recordsWritten(after:)``), which ``ExactlyOnceSink`` uses
/// after a crash; standard output cannot, even when it is redirected to a file (its name is unknown).
///
/// Memory: one buffer of about ``flushThreshold`` bytes plus one batch; after a failed write it holds what
/// was not written, so a caller that goes on after a failure must stop adding (``AlertWriter``'s callers do).
///
/// Usage:
/// ```swift
/// let output = try OutputWriter.appending(path: "alerts.jsonl").get()
/// var alerts = AlertWriter(encoder: SendWatchV1Encoder(), sink: output)
/// try alerts.write(batchOfAlerts)
/// try alerts.flush()
/// ```
public final class OutputWriter: AlertSink {
    /// Bytes at which ``write(_:)`` writes the buffer out. Default 256 KiB.
    public var flushThreshold: Int
    private var fd: Int32
    private let ownsDescriptor: Bool
    /// Whether the descriptor is a regular file (which can be read back).
    private var isFile: Bool
    /// Bytes not written yet.
    private var buffer: [UInt8]
    /// The file's size (regular files only).
    private var size: Int64
    /// What the descriptor is, for messages: the path, or `<stdout>`.
    public let name: String

    /// Writes to standard output.
    public static func standardOutput() -> OutputWriter {
        OutputWriter(fd: 1, owns: false, isFile: false, size: 0, name: "<stdout>")
    }

    /// Opens `path` for appending (created with mode 0644 if missing).
    public static func appending(path: String) -> Result<OutputWriter, OutputError> {
        open(path: path, truncating: false)
    }

    /// Opens `path` emptied (created with mode 0644 if missing): `replay --output FILE --overwrite`.
    public static func replacing(path: String) -> Result<OutputWriter, OutputError> {
        open(path: path, truncating: true)
    }

    private static func open(path: String, truncating: Bool) -> Result<OutputWriter, OutputError> {
        switch openDescriptor(path, truncating: truncating) {
        case .success(let (fd, isFile, size)):
            return .success(OutputWriter(fd: fd, owns: true, isFile: isFile, size: size, name: path))
        case .failure(let error):
            return .failure(error)
        }
    }

    /// Opens `path` for appending (or emptied), with what it is and its size.
    private static func openDescriptor(
        _ path: String, truncating: Bool
    ) -> Result<(fd: Int32, isFile: Bool, size: Int64), OutputError> {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncating ? O_TRUNC : 0)
        let fd = openFile(path, flags, 0o644)
        guard fd >= 0 else {
            let e = errno
            return .failure(
                OutputError(code: .openFailed, message: "cannot open for appending", path: path, underlyingErrno: e))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            _ = close(fd)
            return .failure(OutputError(code: .openFailed, message: "cannot stat", path: path, underlyingErrno: e))
        }
        let isFile = (st.st_mode & S_IFMT) == S_IFREG
        return .success((fd, isFile, isFile ? Int64(st.st_size) : 0))
    }

    /// Writes out what is buffered, closes the file and opens the same path again for appending (a new file
    /// after logrotate renamed the old one). Standard output is left as it is.
    ///
    /// - Throws: ``OutputError``: `write_failed` when the buffer cannot be written out first, `open_failed`
    ///   when the path cannot be opened (the old file stays open and in use).
    public func reopen() throws(OutputError) {
        guard ownsDescriptor else { return }
        try flush()
        switch Self.openDescriptor(name, truncating: false) {
        case .success(let (newFD, newIsFile, newSize)):
            _ = close(fd)
            fd = newFD
            isFile = newIsFile
            size = newSize
        case .failure(let error):
            throw error
        }
    }

    private init(fd: Int32, owns: Bool, isFile: Bool, size: Int64, name: String) {
        self.fd = fd
        self.ownsDescriptor = owns
        self.isFile = isFile
        self.size = size
        self.name = name
        self.flushThreshold = 256 * 1024
        self.buffer = []
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        if ownsDescriptor { _ = close(fd) }
    }

    /// Buffers `records`, and writes the buffer out once it has passed ``flushThreshold``.
    ///
    /// - Throws: ``OutputError`` (`write_failed`) when that write failed; the bytes are kept for ``flush()``.
    @inline(__always)
    public func write(_ records: UnsafeRawBufferPointer) throws(OutputError) {
        buffer.append(contentsOf: records)
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Writes everything buffered in one `write(2)` (retrying short writes).
    ///
    /// - Throws: ``OutputError`` (`write_failed`, with the `errno`); the bytes not written stay buffered.
    public func flush() throws(OutputError) {
        guard !buffer.isEmpty else { return }
        let (written, failure) = buffer.withUnsafeBytes { writeFully(fd, $0) }
        if isFile { size += Int64(written) }
        if let failure {
            buffer.removeFirst(written)
            throw OutputError(code: .writeFailed, message: "cannot write", path: name, underlyingErrno: failure)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// `fsync`s a regular file; does nothing for standard output, pipes and devices.
    public func sync() throws(OutputError) {
        guard isFile else { return }
        guard fsync(fd) == 0 else {
            throw OutputError(code: .syncFailed, message: "fsync failed", path: name, underlyingErrno: errno)
        }
    }

    /// The file's size (what was there at opening plus what was written); nil for anything but a regular file.
    public var position: Int64? { isFile ? size : nil }

    /// The whole lines after byte `start`, read back from the file; a partial last line (a crash inside a
    /// write) is cut off the file, since nobody can use it and the whole line comes again.
    ///
    /// - Returns: nil for anything but a regular file, or when the file no longer reaches `start` (rotated or
    ///   truncated by someone else) or cannot be read.
    /// - Throws: ``OutputError`` (`truncate_failed`) when the partial line cannot be cut off.
    public func recordsWritten(after start: Int64) throws(OutputError) -> [UInt8]? {
        guard isFile else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) >= start, var bytes = readFile(name, from: start) else {
            return nil
        }
        let complete = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        if complete < bytes.count {
            guard ftruncate(fd, off_t(start) + off_t(complete)) == 0 else {
                throw OutputError(
                    code: .truncateFailed, message: "cannot cut off the partial last line", path: name,
                    underlyingErrno: errno)
            }
            size = start + Int64(complete)
            bytes.removeLast(bytes.count - complete)
        }
        return bytes
    }
}

@available(*, unavailable)
extension OutputWriter: Sendable {}

/// `open(2)`, under a name that the type's own `open(path:truncating:)` does not hide.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}
