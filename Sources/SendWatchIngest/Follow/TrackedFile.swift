#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What is at a path right now (`stat(2)`, following symbolic links).
enum PathStatus {
    case missing
    case notRegular(kind: String)
    case regular(device: UInt64, inode: UInt64, size: Int64)
    case failed(errno: Int32)

    static func of(_ path: String) -> PathStatus {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            return code == ENOENT || code == ENOTDIR ? .missing : .failed(errno: code)
        }
        return from(info)
    }

    static func from(_ info: stat) -> PathStatus {
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return .regular(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size))
        case S_IFDIR: return .notRegular(kind: "a directory")
        case S_IFIFO: return .notRegular(kind: "a FIFO")
        case S_IFSOCK: return .notRegular(kind: "a socket")
        default: return .notRegular(kind: "a device")
        }
    }

    /// The modification time (ns) of the regular file at `path`; `nil` when there is none.
    static func modification(of path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return modificationNanoseconds(info)
    }

    var isRegular: Bool {
        if case .regular = self { return true }
        return false
    }

    /// Whether something is at the path (a regular file or not; `stat` may also have failed on it).
    var exists: Bool {
        if case .missing = self { return false }
        return true
    }
}

/// Owns an `InputSource` so that a class can hold and mutate it.
private final class CompressedInput {
    var source: InputSource
    init(_ source: consuming InputSource) { self.source = source }
}

/// One open file of a stream: its descriptor (plain) or decoder (compressed), its identity, and how far it was
/// read and delivered.
///
/// Plain files are read with `pread` at ``readOffset``, so the descriptor keeps pointing at the same inode
/// across renames and deletion. Compressed files (rotated predecessors only) are read sequentially through
/// ``InputSource``; their offsets are in decompressed bytes.
final class TrackedFile {
    /// Where the file should start being read.
    enum Start {
        /// At this decompressed offset (clamped to a plain file's size).
        case offset(Int64)
        /// After the last complete line (`tail -n 0`); see ``LogFollower`` for the overlong-tail rule.
        case endAtLineBoundary(maxLineBytes: Int)
    }

    /// The path it was opened at.
    let path: String
    private(set) var identity: FileIdentity
    let compression: Compression
    /// Decompressed bytes handed to the framer so far (the next read starts here).
    var readOffset: Int64
    /// The offset just after the last delivered line.
    var boundary: Int64
    /// The size seen at the last check (plain files), to notice growth and shrinking.
    var lastSize: Int64
    /// The modification time (ns) seen at the last check, to notice a rewrite that kept the size.
    var lastModification: Int64 = 0
    /// The newest file with content read (or known) before this one; see ``FilePosition/predecessor``.
    var predecessor: FileIdentity?

    private let fd: Int32
    private let decoder: CompressedInput?
    /// Decompressed bytes read ahead while fingerprinting a compressed file; served before the decoder's.
    private var readAhead: [UInt8]
    private var readAheadStart: Int

    private init(
        path: String, identity: FileIdentity, compression: Compression, fd: Int32, decoder: CompressedInput?,
        readAhead: [UInt8]
    ) {
        self.path = path
        self.identity = identity
        self.compression = compression
        self.fd = fd
        self.decoder = decoder
        self.readAhead = readAhead
        self.readAheadStart = 0
        self.readOffset = 0
        self.boundary = 0
        self.lastSize = 0
    }

    deinit {
        if fd >= 0 { _ = close(fd) }
    }

    var isCompressed: Bool { decoder != nil }

    /// Opens `path` (a regular file, plain or compressed) and positions it at `start`.
    ///
    /// - Throws: ``IngestError`` `.notARegularFile` (checked with `stat` first, so a FIFO is never opened),
    ///   `.openFailed`, `.readFailed`, or a decoder error while skipping to the offset of a compressed file.
    static func open(path: String, start: Start) throws(IngestError) -> TrackedFile {
        if case .notRegular(let kind) = PathStatus.of(path) {
            throw IngestError(code: .notARegularFile, message: "the path is \(kind), not a regular file", path: path)
        }
        var descriptor: Int32
        // O_NONBLOCK: should the path become a FIFO between stat and open, open must not wait for a writer.
        repeat { descriptor = openFile(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            throw IngestError(code: .openFailed, message: "cannot open the file", path: path, underlyingErrno: errno)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            _ = close(descriptor)
            throw IngestError(code: .openFailed, message: "cannot stat the file", path: path, underlyingErrno: code)
        }
        guard case .regular(let device, let inode, let size) = PathStatus.from(info) else {
            _ = close(descriptor)
            throw IngestError(code: .notARegularFile, message: "the path is not a regular file", path: path)
        }
        let prefix: [UInt8]
        do {
            prefix = try readPrefix(descriptor, count: FileIdentity.maxFingerprintBytes, path: path)
        } catch {
            _ = close(descriptor)
            throw error
        }
        let compression = prefix.withUnsafeBytes { Compression.detect(magic: $0) }
        if compression == .none {
            let identity = prefix.withUnsafeBytes { FileIdentity(device: device, inode: inode, prefix: $0) }
            let file = TrackedFile(
                path: path, identity: identity, compression: .none, fd: descriptor, decoder: nil, readAhead: [])
            let offset: Int64
            switch start {
            case .offset(let wanted): offset = min(max(0, wanted), size)
            case .endAtLineBoundary(let maxLineBytes):
                offset = try file.endAtLineBoundary(size: size, maxLineBytes: maxLineBytes)
            }
            file.readOffset = offset
            file.boundary = offset
            file.lastSize = size
            file.lastModification = modificationNanoseconds(info)
            return file
        }
        _ = close(descriptor)
        var source = try InputSource.open(path: path)
        let decoded = try readDecompressedPrefix(&source, count: FileIdentity.maxFingerprintBytes)
        let identity = decoded.withUnsafeBytes { FileIdentity(device: device, inode: inode, prefix: $0) }
        let file = TrackedFile(
            path: path, identity: identity, compression: source.compression, fd: -1,
            decoder: CompressedInput(source), readAhead: decoded)
        if case .offset(let wanted) = start, wanted > 0 {
            try file.skip(wanted)
        }
        file.boundary = file.readOffset
        return file
    }

    /// Reads the next bytes at ``readOffset`` into `buffer` and advances ``readOffset``.
    ///
    /// - Returns: the byte count; 0 at the (current) end of the file.
    /// - Complexity: O(n) in the bytes read; no allocation.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let count: Int
        if let decoder {
            if readAheadStart < readAhead.count {
                let n = min(buffer.count, readAhead.count - readAheadStart)
                readAhead.withUnsafeBytes { ahead in
                    // Safe: copies n bytes that lie within `ahead` into `buffer`, which has room for them.
                    base.copyMemory(from: ahead.baseAddress! + readAheadStart, byteCount: n)
                }
                readAheadStart += n
                if readAheadStart == readAhead.count { readAhead = []; readAheadStart = 0 }
                count = n
            } else {
                count = try decoder.source.read(into: buffer)
            }
        } else {
            var n: Int
            repeat { n = pread(fd, base, buffer.count, off_t(readOffset)) } while n < 0 && errno == EINTR
            guard n >= 0 else {
                throw IngestError(
                    code: .readFailed, message: "cannot read the file", path: path, byteOffset: readOffset,
                    underlyingErrno: errno)
            }
            count = n
        }
        readOffset += Int64(count)
        return count
    }

    /// The file's current size (`fstat`), or `nil` for a compressed file or when `fstat` fails.
    func currentSize() -> Int64? {
        currentSizeAndModification()?.size
    }

    /// The file's current size and modification time in ns (`fstat`); `nil` for a compressed file.
    func currentSizeAndModification() -> (size: Int64, modification: Int64)? {
        guard decoder == nil else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return (Int64(info.st_size), modificationNanoseconds(info))
    }

    /// For a plain file: whether its first ``FileIdentity/fingerprintLength`` bytes are still the ones
    /// fingerprinted; when they are and the file has grown, the fingerprint is extended (up to 4 KiB).
    ///
    /// `false` means the file was rewritten from the start (truncated and written again).
    /// - Complexity: one `pread` of at most 4 KiB and a hash over it.
    func prefixStillMatches(size: Int64) -> Bool {
        guard decoder == nil else { return true }
        let want = Int(min(size, Int64(FileIdentity.maxFingerprintBytes)))
        if want < identity.fingerprintLength { return false }
        guard let prefix = try? readPrefix(fd, count: want, path: path) else { return true }
        let matches = prefix.withUnsafeBytes { identity.matches(prefix: $0) }
        if matches && prefix.count > identity.fingerprintLength {
            identity = prefix.withUnsafeBytes {
                FileIdentity(device: identity.device, inode: identity.inode, prefix: $0)
            }
        }
        return matches
    }

    /// Starts the (plain) file over at offset 0 after a truncation, with a fresh fingerprint.
    func rewind() {
        readOffset = 0
        boundary = 0
        lastSize = 0
        if decoder == nil, let prefix = try? readPrefix(fd, count: FileIdentity.maxFingerprintBytes, path: path) {
            identity = prefix.withUnsafeBytes {
                FileIdentity(device: identity.device, inode: identity.inode, prefix: $0)
            }
        }
    }

    /// Extends a short fingerprint of a plain file that has grown, without checking for rewrites.
    func refreshFingerprint() {
        guard decoder == nil, identity.fingerprintLength < FileIdentity.maxFingerprintBytes,
            let size = currentSize(), size > Int64(identity.fingerprintLength)
        else { return }
        _ = prefixStillMatches(size: size)
    }

    /// Reads and drops decompressed bytes until ``readOffset`` reaches `offset` or the file ends.
    private func skip(_ offset: Int64) throws(IngestError) {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { scratch.deallocate() }
        while readOffset < offset {
            let want = Int(min(Int64(scratch.count), offset - readOffset))
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
            if n == 0 { return }
        }
    }

    /// The offset after the last `\n` within the last `maxLineBytes + 1` bytes; 0 when a file that small has
    /// none; `size - (maxLineBytes + 1)` when a larger file has none there (the framer then skips the overlong
    /// tail up to its `\n`, as it would have).
    private func endAtLineBoundary(size: Int64, maxLineBytes: Int) throws(IngestError) -> Int64 {
        let window = Int64(maxLineBytes) + 1
        let start = max(0, size - window)
        let count = Int(size - start)
        if count == 0 { return 0 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0
        while filled < count {
            let n = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(start) + off_t(filled))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        var index = filled - 1
        while index >= 0 {
            if buffer[index] == 0x0A { return start + Int64(index) + 1 }
            index -= 1
        }
        return start
    }
}

/// Up to `count` first bytes of the file behind `fd` (fewer if it is shorter).
func readPrefix(_ fd: Int32, count: Int, path: String) throws(IngestError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    var failure: Int32 = 0
    bytes.withUnsafeMutableBytes { raw in
        // Safe: reads stay within `raw`, which has `count` bytes.
        while filled < count {
            let n = pread(fd, raw.baseAddress! + filled, count - filled, off_t(filled))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { failure = errno }
            guard n > 0 else { break }
            filled += n
        }
    }
    if failure != 0 {
        throw IngestError(
            code: .readFailed, message: "cannot read the file's first bytes", path: path, underlyingErrno: failure)
    }
    bytes.removeSubrange(filled..<count)
    return bytes
}

/// Up to `count` first decompressed bytes of `source`.
func readDecompressedPrefix(_ source: inout InputSource, count: Int) throws(IngestError) -> [UInt8] {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
    defer { scratch.deallocate() }
    var filled = 0
    while filled < count {
        let n: Int
        do {
            n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[filled..<count]))
        } catch {
            if filled == 0 { throw error }
            break
        }
        if n == 0 { break }
        filled += n
    }
    return Array(scratch[0..<filled])
}

/// The first (decompressed) bytes of the file at `path`, up to `count`, with its device and inode; `nil` when
/// it cannot be read or is not a regular file.
func peekPrefix(path: String, count: Int) -> (
    device: UInt64, inode: UInt64, size: Int64, compressed: Bool, bytes: [UInt8]
)? {
    guard case .regular(let device, let inode, let size) = PathStatus.of(path) else { return nil }
    var descriptor: Int32
    repeat { descriptor = openFile(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } while descriptor < 0 && errno == EINTR
    guard descriptor >= 0 else { return nil }
    defer { _ = close(descriptor) }
    guard let prefix = try? readPrefix(descriptor, count: max(count, Compression.magicByteCount), path: path) else {
        return nil
    }
    let compression = prefix.withUnsafeBytes { Compression.detect(magic: $0) }
    if compression == .none {
        return (device, inode, size, false, Array(prefix.prefix(count)))
    }
    guard var source = try? InputSource.open(path: path),
        let decoded = try? readDecompressedPrefix(&source, count: count)
    else { return nil }
    return (device, inode, size, true, decoded)
}

private func modificationNanoseconds(_ info: stat) -> Int64 {
    let time = modificationTime(of: info)
    return Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
}

private func openFile(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
}
