#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SendWatchIngest

/// Writes bytes to a file descriptor in large batches, retrying short writes and `EINTR`.
///
/// Memory: one buffer that is flushed when it passes ``flushThreshold`` bytes, so it never holds much more
/// than that plus one record. A class, because one writer is shared by the stages that write to it.
public final class OutputWriter {
    /// Bytes at which ``flushIfFull()`` writes the buffer out. Default 256 KiB.
    public var flushThreshold: Int
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// The pending bytes.
    public var buffer: [UInt8]
    /// The first write error, as an errno value; once set, further writes are dropped.
    public private(set) var writeErrno: Int32?
    /// What the descriptor is, for messages.
    public let name: String

    /// Writes to standard output.
    public static func standardOutput() -> OutputWriter { OutputWriter(fd: 1, owns: false, name: "<stdout>") }

    /// Opens `path` for appending (created with mode 0644 if missing).
    public static func appending(path: String) -> Result<OutputWriter, OutputError> {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .failure(OutputError(path: path, errno: errno)) }
        return .success(OutputWriter(fd: fd, owns: true, name: path))
    }

    private init(fd: Int32, owns: Bool, name: String) {
        self.fd = fd
        self.ownsDescriptor = owns
        self.name = name
        self.flushThreshold = 256 * 1024
        self.buffer = []
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        if ownsDescriptor { _ = close(fd) }
    }

    /// Flushes when the buffer has passed the threshold.
    @inline(__always)
    public func flushIfFull() {
        if buffer.count >= flushThreshold { flush() }
    }

    /// Writes everything pending. Errors are kept in ``writeErrno``.
    public func flush() {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        guard writeErrno == nil else { return }
        writeErrno = buffer.withUnsafeBytes { writeFully(fd, $0).errno }
    }
}

/// An output that could not be opened or written.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var errno: Int32
    public init(path: String, errno: Int32) {
        self.path = path
        self.errno = errno
    }
    public var description: String { "cannot write \(path): \(errnoDescription(errno))" }
}
