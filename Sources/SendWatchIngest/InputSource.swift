import CBzip2
import CLz4
import CLzma
import CZlib
import CZstd
public import SendWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One input opened for reading - a file, a FIFO or standard input - that yields its *decompressed* bytes.
///
/// The compression is chosen by the magic bytes at the start of the input (see ``Compression/detect(magic:)``),
/// never by the file name: plain, zstd, gzip, xz, bzip2 or LZ4. Every compressed format may hold any number of
/// concatenated units: zstd frames (with skippable frames, `cat a.zst b.zst`), gzip members (`gzip -c a >> b`;
/// zero padding after the last is ignored), xz streams (with xz's stream padding), bzip2 streams and LZ4 frames.
/// A recognised format that is not read (`compress`, lzip, legacy LZ4) fails at ``open(path:)`` by name.
///
/// Usage:
/// ```swift
/// var source = try InputSource.open(path: "/var/log/mail.log.1.zst")
/// var framer = LineFramer()
/// var counter = MyLineConsumer()
/// try readLines(from: &source, framer: &framer, into: &counter)
/// ```
///
/// ## Memory
/// An input source holds one fixed input buffer of ``inputBufferBytes`` and the decoder state: for zstd the
/// window of the frame being decoded (as large as the frame declares, 2-8 MiB for `zstd -1`...`-19`; libzstd
/// refuses frames wanting more than 128 MiB, which only `--long`/`--ultra` produce), for gzip zlib's 32 KiB
/// window plus about 7 KiB, for xz the dictionary the stream declares (8 MiB for the default `xz -6`, 64 MiB
/// for `xz -9`; streams wanting more than ``xzMemoryLimitBytes`` are refused), for bzip2 about 3.6 MiB (`-9`),
/// for LZ4 up to two 4 MiB blocks. Nothing grows with the size of the input: a 50 GB file needs a few MB.
///
/// ## Errors
/// Damage is reported only after everything decoded before it: a ``read(into:)`` call that meets corrupt or
/// truncated data first returns the good bytes it already produced, and the *next* call throws. After an
/// error every further call throws the same error. xz and LZ4 check a block's (or frame's) integrity at its
/// end, so bytes decoded from the damaged block itself may be returned before the error; lines made of them are
/// counted as bad lines by the parsers like any other garbage.
///
/// ## Why `~Copyable`
/// The value owns a file descriptor, a heap buffer and a C decoder context, which must be released exactly once.
/// A noncopyable struct expresses that single ownership directly (its `deinit` frees them) without a class
/// allocation or reference counting, and the compiler rejects accidental copies that would share one decoder.
/// Pass it `inout` or consume it; it can be sent to another task because nothing else can refer to it.
///
/// Not included, on purpose: following a growing file (the tailer's job), seeking, and reading the legacy
/// zstd (v0.x) or `compress` (`.Z`) formats.
public struct InputSource: ~Copyable, @unchecked Sendable {
    // @unchecked Sendable: the raw pointers are owned by this noncopyable value alone, so moving it to
    // another task moves the only reference; neither libzstd nor zlib contexts are tied to a thread.

    /// Size of the fixed raw-input buffer: 256 KiB.
    public static let inputBufferBytes = 256 * 1024
    /// The most memory the xz decoder may use: 256 MiB, four times what `xz -9` needs. A stream that declares a
    /// larger dictionary is refused as corrupt (`xz` itself accepts it only with a raised memory limit).
    public static let xzMemoryLimitBytes: UInt64 = 256 << 20

    /// The path as given to ``open(path:)``; `-` for standard input.
    public let path: String
    /// A name for messages: the path, or `<stdin>` for `-`.
    public let name: String
    /// The file's modification time (standard input's too when it is redirected from a file), or `nil` for pipes
    /// and FIFOs.
    public let modificationTime: EventTime?
    /// The compression detected from the first bytes.
    public private(set) var compression: Compression
    /// Raw (still compressed) bytes read from the file so far.
    public private(set) var rawBytesRead: Int64
    /// Decompressed bytes returned by ``read(into:)`` so far.
    public private(set) var decompressedBytesRead: Int64

    private let fd: Int32
    private let ownsDescriptor: Bool
    /// Fixed buffer of `inputBufferBytes` raw bytes; `inputStart..<inputEnd` is not yet consumed.
    private let input: UnsafeMutableRawPointer
    private var inputStart: Int
    private var inputEnd: Int
    private var atEndOfFile: Bool
    /// Set once an error was found; every later `read` throws it.
    private var failure: IngestError?

    private var zstd: OpaquePointer?
    /// The last `ZSTD_decompressStream` result: 0 between frames, else bytes wanted for the next block.
    private var zstdHint: Int
    /// The last zstd call filled the output, so the decoder may still hold decoded bytes to flush.
    private var zstdFlushPending: Bool
    private var zlib: UnsafeMutablePointer<z_stream>?
    private var lzma: UnsafeMutablePointer<lzma_stream>?
    private var bzip2: UnsafeMutablePointer<bz_stream>?
    /// Whether `bzip2` holds an initialised decoder (it is ended after each stream and started for the next).
    private var bzip2Active: Bool
    private var lz4: OpaquePointer?
    /// A zstd frame, gzip member, bzip2 stream or LZ4 frame has started and not ended.
    private var unitInProgress: Bool

    private init(path: String, fd: Int32, ownsDescriptor: Bool, modificationTime: EventTime?) {
        self.path = path
        self.name = path == "-" ? "<stdin>" : path
        self.modificationTime = modificationTime
        self.compression = .none
        self.rawBytesRead = 0
        self.decompressedBytesRead = 0
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.input = UnsafeMutableRawPointer.allocate(byteCount: Self.inputBufferBytes, alignment: 16)
        self.inputStart = 0
        self.inputEnd = 0
        self.atEndOfFile = false
        self.failure = nil
        self.zstd = nil
        self.zstdHint = 0
        self.zstdFlushPending = false
        self.zlib = nil
        self.lzma = nil
        self.bzip2 = nil
        self.bzip2Active = false
        self.lz4 = nil
        self.unitInProgress = false
    }

    deinit {
        if let zstd { ZSTD_freeDCtx(zstd) }
        if let zlib {
            inflateEnd(zlib)
            zlib.deinitialize(count: 1)
            zlib.deallocate()
        }
        if let lzma {
            lzma_end(lzma)
            lzma.deinitialize(count: 1)
            lzma.deallocate()
        }
        if let bzip2 {
            if bzip2Active { BZ2_bzDecompressEnd(bzip2) }
            bzip2.deinitialize(count: 1)
            bzip2.deallocate()
        }
        if let lz4 { LZ4F_freeDecompressionContext(lz4) }
        input.deallocate()
        if ownsDescriptor { _ = close(fd) }
    }

    /// Opens `path` for reading (`-` means standard input), peeks at the first bytes to detect the compression
    /// and prepares the decoder.
    ///
    /// Regular files and FIFOs can be opened; standard input can be anything but a directory. Opening a FIFO
    /// waits until a writer opens it, as `cat` does. The peek reads at most one input buffer; those bytes are
    /// kept and returned by ``read(into:)``.
    ///
    /// - Parameter path: a file path, or `-` for standard input.
    /// - Returns: the open source, positioned at the start of the input.
    /// - Throws: ``IngestError`` with code `.openFailed`, `.notARegularFile`, `.readFailed` or
    ///   `.decoderUnavailable`.
    public static func open(path: String) throws(IngestError) -> InputSource {
        let fd: Int32
        let isStandardInput = path == "-"
        if isStandardInput {
            fd = STDIN_FILENO
        } else {
            var opened: Int32
            repeat { opened = systemOpen(path, O_RDONLY | O_CLOEXEC) } while opened < 0 && errno == EINTR
            guard opened >= 0 else {
                let code = errno
                // The shell passes a pattern that matches nothing on as it is (`mail.log*` in an empty
                // directory): say so rather than only "no such file".
                let pattern = code == ENOENT && path.utf8.contains { $0 == 0x2A || $0 == 0x3F || $0 == 0x5B }
                let message = pattern ? "no file matches this pattern (the shell passed it on unexpanded)" : nil
                throw IngestError(
                    code: .openFailed, message: message ?? "cannot open the file", path: path, underlyingErrno: code)
            }
            fd = opened
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            if !isStandardInput { _ = close(fd) }
            throw IngestError(code: .openFailed, message: "cannot stat the file", path: path, underlyingErrno: code)
        }
        let kind = info.st_mode & S_IFMT
        var modificationTime: EventTime?
        if kind == S_IFREG {
            // Standard input redirected from a file (`sendwatch replay < mail.log`) has the file's time too.
            modificationTime = modificationTimeOf(info)
        } else if kind == S_IFDIR || (kind != S_IFIFO && kind != S_IFREG && !isStandardInput) {
            if !isStandardInput { _ = close(fd) }
            let what =
                kind == S_IFDIR
                ? "is a directory: name the log files in it instead (e.g. DIRECTORY/mail.log*)"
                : "is neither a regular file nor a FIFO"
            throw IngestError(code: .notARegularFile, message: "the path \(what)", path: path)
        }
        var source = InputSource(
            path: path, fd: fd, ownsDescriptor: !isStandardInput, modificationTime: modificationTime)
        // From here on the source's deinit releases the descriptor and buffers if anything throws.
        try source.peekAndStartDecoder()
        return source
    }

    /// Reads up to `buffer.count` *decompressed* bytes into `buffer`.
    ///
    /// Blocks until at least one byte is available or the input ends. For pipes it returns what it has
    /// instead of waiting to fill `buffer`. `EINTR` is retried.
    ///
    /// - Parameter buffer: where to write; it should be large (e.g. 256 KiB) for throughput. An empty buffer
    ///   returns 0.
    /// - Returns: the number of bytes written; 0 means the end of the input.
    /// - Throws: ``IngestError`` with `.readFailed`, `.corruptCompressedData` or `.truncatedCompressedData`;
    ///   bytes decoded before damage are returned by earlier calls first.
    /// - Complexity: O(n) in the bytes produced, plus decoder work; no allocation.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(IngestError) -> Int {
        if let failure { throw failure }
        guard let destination = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let produced: Int
        switch compression {
        case .none: produced = try readPlain(into: destination, count: buffer.count)
        case .zstd: produced = try readZstd(into: destination, count: buffer.count)
        case .gzip: produced = try readGzip(into: destination, count: buffer.count)
        case .xz: produced = try readXz(into: destination, count: buffer.count)
        case .bzip2: produced = try readBzip2(into: destination, count: buffer.count)
        case .lz4: produced = try readLz4(into: destination, count: buffer.count)
        case .unsupported: produced = 0  // `open` refuses these.
        }
        decompressedBytesRead += Int64(produced)
        return produced
    }

    // MARK: - Raw input

    /// The offset in the raw file of `input[index]`.
    private func rawOffset(ofInputIndex index: Int) -> Int64 {
        rawBytesRead - Int64(inputEnd - index)
    }

    /// `read(2)` into `destination`, retrying `EINTR` (and waiting on `EAGAIN` for a non-blocking stdin).
    private mutating func readRaw(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        while true {
            let n = systemRead(fd, destination, count)
            if n >= 0 {
                rawBytesRead += Int64(n)
                return n
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                var waiter = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&waiter, 1, -1)
                continue
            }
            let error = IngestError(
                code: .readFailed, message: "cannot read the file", path: path, byteOffset: rawBytesRead,
                underlyingErrno: code)
            failure = error
            throw error
        }
    }

    /// Refills the empty input buffer with one `read(2)`; sets `atEndOfFile` when it returns 0.
    private mutating func refillInput() throws(IngestError) {
        inputStart = 0
        inputEnd = 0
        let n = try readRaw(into: input, count: Self.inputBufferBytes)
        if n == 0 { atEndOfFile = true }
        inputEnd = n
    }

    /// A decoder could not be created: `decoder` says which, e.g. `a zstd decoder`.
    private func decoderUnavailable(_ decoder: String) -> IngestError {
        IngestError(code: .decoderUnavailable, message: "cannot create \(decoder)", path: path)
    }

    /// A C decoder's stream state on the heap, set to `initial` and started by `start`; freed again when
    /// `start` fails (the decoder named `decoder` is then unavailable).
    private func startStream<Stream>(
        _ initial: Stream, _ decoder: String, start: (UnsafeMutablePointer<Stream>) -> Bool
    ) throws(IngestError) -> UnsafeMutablePointer<Stream> {
        let stream = UnsafeMutablePointer<Stream>.allocate(capacity: 1)
        stream.initialize(to: initial)
        guard start(stream) else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw decoderUnavailable(decoder)
        }
        return stream
    }

    private mutating func peekAndStartDecoder() throws(IngestError) {
        // A pipe may deliver fewer bytes than the magic per read; keep reading until we can decide.
        while inputEnd < Compression.magicByteCount && !atEndOfFile {
            let n = try readRaw(into: input + inputEnd, count: Self.inputBufferBytes - inputEnd)
            if n == 0 { atEndOfFile = true }
            inputEnd += n
        }
        compression = Compression.detect(magic: UnsafeRawBufferPointer(start: input, count: inputEnd))
        switch compression {
        case .none:
            break
        case .zstd:
            guard let context = ZSTD_createDCtx() else { throw decoderUnavailable("a zstd decoder") }
            zstd = context
        case .gzip:
            // 15 + 16: the largest window, gzip wrapper only (we detected the gzip magic).
            zlib = try startStream(z_stream(), "a zlib decoder") {
                inflateInit2_($0, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
            }
        case .xz:
            // LZMA_STREAM_INIT is all zeros.
            lzma = try startStream(lzma_stream(), "an xz decoder") {
                lzma_stream_decoder($0, Self.xzMemoryLimitBytes, sendwatch_lzma_concatenated) == LZMA_OK
            }
        case .bzip2:
            let stream = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
            stream.initialize(to: bz_stream())
            bzip2 = stream
        case .lz4:
            var context: OpaquePointer?
            guard LZ4F_isError(LZ4F_createDecompressionContext(&context, sendwatch_lz4f_version)) == 0,
                let context
            else { throw decoderUnavailable("an lz4 decoder") }
            lz4 = context
        case .unsupported(let name):
            throw IngestError(
                code: .unsupportedCompression,
                message: "the input is compressed with \(name), which SendWatch does not read",
                path: path)
        }
    }

    // MARK: - Decoders

    private mutating func readPlain(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        if inputStart < inputEnd {
            // Bytes read while peeking at the magic come first.
            let n = min(count, inputEnd - inputStart)
            destination.copyMemory(from: input + inputStart, byteCount: n)
            inputStart += n
            return n
        }
        if atEndOfFile { return 0 }
        let n = try readRaw(into: destination, count: count)
        if n == 0 { atEndOfFile = true }
        return n
    }

    /// Decodes zstd so that every call to `ZSTD_decompressStream` decodes at most one block.
    ///
    /// libzstd does not report the output position when a call fails, so bytes produced by a failing call
    /// would be lost. So each call gets only the next unit of input: its return value is the input it wants
    /// next (the rest of the current block *plus the next block's 3-byte header*), and we feed that minus the
    /// 3 header bytes, which then come in a call of their own; between frames we feed the 5-byte header
    /// prefix. Flushing output that did not fit happens in a call without input. A failing call therefore
    /// produces nothing good, and the error offset is the start of the damaged unit (block, block header,
    /// frame header or checksum). When the guess is off (a last block has no following header) libzstd just
    /// buffers the short input, which costs one copy of that block.
    private mutating func readZstd(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        guard let context = zstd else { return 0 }
        var output = ZSTD_outBuffer(dst: destination, size: count, pos: 0)
        while true {
            var inputWindow: ZSTD_inBuffer
            if zstdFlushPending {
                inputWindow = ZSTD_inBuffer(src: input + inputStart, size: 0, pos: 0)
            } else {
                if inputStart == inputEnd {
                    if let end = try endOrRefill(produced: output.pos, unit: "zstd frame") { return end }
                    continue
                }
                let available = inputEnd - inputStart
                let wanted = unitInProgress ? (zstdHint > 3 ? zstdHint - 3 : zstdHint) : 5
                inputWindow = ZSTD_inBuffer(src: input + inputStart, size: min(available, wanted), pos: 0)
            }
            let offsetBefore = rawOffset(ofInputIndex: inputStart)
            let result = ZSTD_decompressStream(context, &output, &inputWindow)
            if ZSTD_isError(result) != 0 {
                let reason = String(cString: ZSTD_getErrorName(result))
                return try rejected("zstd rejected the data (\(reason))", at: offsetBefore, produced: output.pos)
            }
            inputStart += inputWindow.pos
            zstdHint = result
            unitInProgress = result != 0
            zstdFlushPending = output.pos == output.size
            if zstdFlushPending { return output.pos }
        }
    }

    private mutating func readGzip(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        guard let stream = zlib else { return 0 }
        let capacity = min(count, Int(UInt32.max))
        stream.pointee.next_out = destination.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = UInt32(capacity)
        var produced = 0
        while true {
            if inputStart == inputEnd {
                if let end = try endOrRefill(produced: produced, unit: "gzip member") { return end }
                continue
            }
            if !unitInProgress {
                // Between members: skip zero padding (some tools pad to a block size), then start a member.
                if !skipZeroPadding() { continue }
                inflateReset(stream)
                unitInProgress = true
            }
            let available = inputEnd - inputStart
            stream.pointee.next_in = (input + inputStart).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_in = UInt32(available)
            let producedBefore = produced
            let status = inflate(stream, Z_NO_FLUSH)
            let consumed = available - Int(stream.pointee.avail_in)
            inputStart += consumed
            produced = capacity - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK:
                break
            case Z_STREAM_END:
                unitInProgress = false
            case Z_BUF_ERROR where consumed > 0 || produced > producedBefore:
                break
            default:
                // Z_DATA_ERROR, Z_NEED_DICT (not valid in gzip), Z_MEM_ERROR, or no progress at all.
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "inflate returned \(status)"
                let offset = rawOffset(ofInputIndex: inputStart)
                if reason == "incorrect data check" || reason == "incorrect length check" {
                    // The member's trailer: the whole member was decoded (and its lines read) before its CRC or
                    // length could be checked, so the damage is somewhere in it, and nothing says where.
                    return try rejected(
                        "gzip data rejected (\(reason)): the gzip member that ends here fails its check, so its "
                            + "data is damaged somewhere before this point (gzip cannot tell where); the lines "
                            + "decoded from it were read, and garbled ones are counted as not recognised",
                        at: offset, produced: produced)
                }
                return try rejected("gzip data rejected (\(reason))", at: offset, produced: produced)
            }
            if stream.pointee.avail_out == 0 { return produced }
        }
    }

    /// Decodes xz. One decoder reads every concatenated stream and the stream padding between them
    /// (`LZMA_CONCATENATED`); at the end of the file it is told to finish, which reports a cut stream.
    private mutating func readXz(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        guard let stream = lzma else { return 0 }
        stream.pointee.next_out = destination.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_out = count
        while true {
            let produced = count - stream.pointee.avail_out
            if inputStart == inputEnd && !atEndOfFile {
                if produced > 0 { return produced }
                try refillInput()
                continue
            }
            let available = inputEnd - inputStart
            stream.pointee.next_in = UnsafePointer((input + inputStart).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = available
            let status = lzma_code(stream, atEndOfFile ? LZMA_FINISH : LZMA_RUN)
            inputStart += available - stream.pointee.avail_in
            let now = count - stream.pointee.avail_out
            switch status {
            case LZMA_OK:
                if stream.pointee.avail_out == 0 { return now }
            case LZMA_STREAM_END:
                // Every stream and the padding after the last were read; anything after would be garbage that
                // LZMA_CONCATENATED already rejects.
                lzma_end(stream)
                stream.deinitialize(count: 1)
                stream.deallocate()
                lzma = nil
                return now
            case LZMA_BUF_ERROR where atEndOfFile:
                let error = truncated(format: "xz stream")
                if now > 0 { return now }
                throw error
            default:
                let reason: String
                switch status {
                case LZMA_MEMLIMIT_ERROR:
                    reason = "the stream needs more than \(Self.xzMemoryLimitBytes >> 20) MiB to decode"
                case LZMA_FORMAT_ERROR: reason = "not an xz stream"
                case LZMA_OPTIONS_ERROR: reason = "unsupported options"
                case LZMA_MEM_ERROR: reason = "out of memory"
                default: reason = "lzma_code returned \(status.rawValue)"
                }
                return try rejected(
                    "xz data rejected (\(reason))", at: rawOffset(ofInputIndex: inputStart), produced: now)
            }
        }
    }

    /// Decodes bzip2, one stream after another (`bzip2 -c a >> b`); zero padding between or after streams is
    /// skipped, as for gzip.
    private mutating func readBzip2(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        guard let stream = bzip2 else { return 0 }
        let capacity = min(count, Int(UInt32.max))
        stream.pointee.next_out = destination.assumingMemoryBound(to: CChar.self)
        stream.pointee.avail_out = UInt32(capacity)
        while true {
            let produced = capacity - Int(stream.pointee.avail_out)
            if inputStart == inputEnd {
                if let end = try endOrRefill(produced: produced, unit: "bzip2 stream") { return end }
                continue
            }
            if !unitInProgress {
                if !skipZeroPadding() { continue }
                if bzip2Active { BZ2_bzDecompressEnd(stream) }
                stream.pointee = bz_stream()
                stream.pointee.next_out = (destination + produced).assumingMemoryBound(to: CChar.self)
                stream.pointee.avail_out = UInt32(capacity - produced)
                guard BZ2_bzDecompressInit(stream, 0, 0) == BZ_OK else {
                    bzip2Active = false
                    let error = decoderUnavailable("a bzip2 decoder")
                    failure = error
                    throw error
                }
                bzip2Active = true
                unitInProgress = true
            }
            let available = min(inputEnd - inputStart, Int(UInt32.max))
            stream.pointee.next_in = (input + inputStart).assumingMemoryBound(to: CChar.self)
            stream.pointee.avail_in = UInt32(available)
            let status = BZ2_bzDecompress(stream)
            let consumed = available - Int(stream.pointee.avail_in)
            inputStart += consumed
            let now = capacity - Int(stream.pointee.avail_out)
            switch status {
            case BZ_OK:
                if consumed == 0 && now == produced {
                    // No progress with input available and room for output: the data is damaged.
                    fallthrough
                }
            case BZ_STREAM_END:
                unitInProgress = false
            default:
                return try rejected(
                    "bzip2 data rejected (BZ2_bzDecompress returned \(status))",
                    at: rawOffset(ofInputIndex: inputStart), produced: now)
            }
            if stream.pointee.avail_out == 0 { return now }
        }
    }

    /// Decodes LZ4 frames, one after another (the context starts the next frame by itself after one ends).
    private mutating func readLz4(into destination: UnsafeMutableRawPointer, count: Int) throws(IngestError) -> Int {
        guard let context = lz4 else { return 0 }
        var produced = 0
        while produced < count {
            if inputStart == inputEnd {
                if let end = try endOrRefill(produced: produced, unit: "lz4 frame") { return end }
                continue
            }
            var outSize = count - produced
            var inSize = inputEnd - inputStart
            let offsetBefore = rawOffset(ofInputIndex: inputStart)
            let hint = LZ4F_decompress(context, destination + produced, &outSize, input + inputStart, &inSize, nil)
            if LZ4F_isError(hint) != 0 {
                let reason = String(cString: LZ4F_getErrorName(hint))
                return try rejected("lz4 data rejected (\(reason))", at: offsetBefore, produced: produced)
            }
            inputStart += inSize
            produced += outSize
            unitInProgress = hint != 0
            if inSize == 0 && outSize == 0 { break }
        }
        return produced
    }

    /// What a decoder does when its input is used up: returns what it produced so far, or at the end of the
    /// file 0 (or throws ``truncated(format:)`` when a `unit`, a frame or member, is unfinished); otherwise it
    /// reads more input and returns `nil`, to go on decoding.
    private mutating func endOrRefill(produced: Int, unit: String) throws(IngestError) -> Int? {
        if produced > 0 { return produced }
        if atEndOfFile {
            if unitInProgress { throw truncated(format: unit) }
            return 0
        }
        try refillInput()
        return nil
    }

    /// Skips zero bytes between compressed units (some tools pad to a block size); `false` when the input
    /// buffer ran out while skipping.
    private mutating func skipZeroPadding() -> Bool {
        while inputStart < inputEnd && input.load(fromByteOffset: inputStart, as: UInt8.self) == 0 {
            inputStart += 1
        }
        return inputStart < inputEnd
    }

    /// Damaged compressed data at `offset`: the error is kept for later reads; what was decoded before it is
    /// returned first when there is any (`produced` bytes), else the error is thrown.
    private mutating func rejected(_ message: String, at offset: Int64, produced: Int) throws(IngestError) -> Int {
        let error = IngestError(code: .corruptCompressedData, message: message, path: path, byteOffset: offset)
        failure = error
        if produced > 0 { return produced }
        throw error
    }

    private mutating func truncated(format: String) -> IngestError {
        let error = IngestError(
            code: .truncatedCompressedData, message: "the input ends in the middle of a \(format)", path: path,
            byteOffset: rawBytesRead)
        failure = error
        return error
    }
}

// Free functions, because inside `InputSource` the names `open` and `read` mean its own methods.

private func systemOpen(_ path: String, _ flags: Int32) -> Int32 {
    open(path, flags)
}

private func systemRead(_ fd: Int32, _ destination: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, destination, count)
}

private func modificationTimeOf(_ info: stat) -> EventTime {
    let time = modificationTime(of: info)
    return EventTime(microseconds: Int64(time.tv_sec) &* 1_000_000 &+ Int64(time.tv_nsec) / 1000)
}
