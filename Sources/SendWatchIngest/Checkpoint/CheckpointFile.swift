#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A checkpoint on disk: one line of JSON header that an operator can read (`head -1`), then a binary body.
///
/// Layout: `<header JSON>\n<body bytes>`. The header's `body_bytes` and `body_crc32` fields describe the body;
/// ``read(path:)`` checks both, so a truncated or damaged file is reported, never half-loaded. What the header
/// and body contain is the caller's business (`sendwatch tail` puts its format version, file positions and
/// output position in the header and the detection state in the body).
///
/// Writing is atomic and durable: the new checkpoint goes to `<path>.tmp`, is fsynced, renamed over `<path>`,
/// and the directory is fsynced, so after a crash or power loss either the old or the new checkpoint is there,
/// complete. A leftover `.tmp` (a crash before the rename) is ignored and overwritten by the next write.
public enum CheckpointFile {
    /// The parts of a checkpoint file.
    public struct Contents: Sendable {
        /// The header line, without its newline (JSON).
        public var header: [UInt8]
        /// The body.
        public var body: [UInt8]
        public init(header: [UInt8], body: [UInt8]) {
            self.header = header
            self.body = body
        }
    }

    /// Why a checkpoint could not be read or written.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var message: String
        public var description: String { "checkpoint \(path): \(message)" }
        /// A failure of the file at `path`.
        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }
    }

    /// Writes `header` (a JSON object, without a newline) and `body` to `path`, atomically.
    ///
    /// The CRC and length of the body are added to the header as `"body_bytes"` and `"body_crc32"`: `header`
    /// must be a JSON object (it is spliced before the closing brace).
    public static func write(path: String, header: [UInt8], body: [UInt8]) throws(Failure) {
        guard header.last == UInt8(ascii: "}"), !header.contains(UInt8(ascii: "\n")) else {
            throw Failure(path: path, message: "header must be a one-line JSON object")
        }
        let crc = body.withUnsafeBytes { crc32($0) }
        var line = Array(header.dropLast())
        if line.count > 1 { line.append(UInt8(ascii: ",")) }
        line += Array("\"body_bytes\":\(body.count),\"body_crc32\":\(crc)}\n".utf8)
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(path: tmp, message: "cannot create: \(errnoDescription(errno))") }
        var failure: Failure?
        for part in [line, body] where failure == nil {
            if let e = part.withUnsafeBytes({ writeFully(fd, $0).errno }) {
                failure = Failure(path: tmp, message: "cannot write: \(errnoDescription(e))")
            }
        }
        if failure == nil, fsync(fd) != 0 {
            failure = Failure(path: tmp, message: "fsync failed: \(errnoDescription(errno))")
        }
        if close(fd) != 0, failure == nil {
            failure = Failure(path: tmp, message: "close failed: \(errnoDescription(errno))")
        }
        if let failure {
            _ = unlink(tmp)
            throw failure
        }
        guard rename(tmp, path) == 0 else {
            let e = errno
            _ = unlink(tmp)
            throw Failure(path: path, message: "cannot rename \(tmp) over it: \(errnoDescription(e))")
        }
        syncDirectory(of: path)
    }

    /// Reads a checkpoint; nil when there is none at `path`.
    ///
    /// - Throws: ``Failure`` when the file exists but cannot be read, has no header line, or its body's length
    ///   or CRC does not match the header: the file is left as it is for the operator to inspect.
    public static func read(path: String, maxBytes: Int = 1 << 34) throws(Failure) -> Contents? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Failure(path: path, message: "cannot open: \(errnoDescription(errno))")
        }
        defer { _ = close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(path: path, message: "cannot stat: \(errnoDescription(errno))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw Failure(path: path, message: "not a regular file") }
        let size = Int(st.st_size)
        guard size <= maxBytes else {
            throw Failure(path: path, message: "\(size) bytes, more than the \(maxBytes) allowed")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var got = 0
        while got < size {
            let n = bytes.withUnsafeMutableBytes { raw in
                // Safe: got < size == raw.count.
                Glibc.read(fd, raw.baseAddress! + got, size - got)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: path, message: "cannot read: \(errnoDescription(errno))")
            }
            if n == 0 { break }
            got += n
        }
        guard got == size else { throw Failure(path: path, message: "changed size while being read") }
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            throw Failure(path: path, message: "no header line (truncated or not a SendWatch checkpoint)")
        }
        let header = Array(bytes[..<newline])
        let body = Array(bytes[(newline + 1)...])
        guard let declared = integerField("body_bytes", in: header), let crc = integerField("body_crc32", in: header)
        else {
            throw Failure(path: path, message: "the header has no body_bytes/body_crc32 (not a SendWatch checkpoint?)")
        }
        guard declared == body.count else {
            throw Failure(path: path, message: "body has \(body.count) bytes, the header says \(declared) (truncated?)")
        }
        let actual = body.withUnsafeBytes { crc32($0) }
        guard UInt64(actual) == crc else {
            throw Failure(path: path, message: "body CRC-32 is \(actual), the header says \(crc) (damaged)")
        }
        return Contents(header: header, body: body)
    }

    /// The value of `"name":<digits>` in a one-line JSON header (the last occurrence wins).
    public static func integerField(_ name: String, in header: [UInt8]) -> UInt64? {
        let key = Array("\"\(name)\":".utf8)
        guard header.count >= key.count else { return nil }
        var found: UInt64?
        var i = 0
        while i + key.count <= header.count {
            if header[i..<i + key.count].elementsEqual(key) {
                var j = i + key.count
                var value: UInt64 = 0
                var digits = 0
                while j < header.count, header[j] >= 0x30, header[j] <= 0x39, digits < 19 {
                    value = value * 10 + UInt64(header[j] - 0x30)
                    j += 1
                    digits += 1
                }
                if digits > 0 { found = value }
                i = j
            } else {
                i += 1
            }
        }
        return found
    }

    /// Fsyncs the directory holding `path`, so that a file created or renamed there survives a power loss.
    package static func syncDirectory(of path: String) {
        let dir: String
        if let slash = path.lastIndex(of: "/") {
            dir = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            dir = "."
        }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

}
