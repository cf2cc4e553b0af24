import CBzip2
import CLz4
import CLzma
import CZlib
import CZstd
import SendWatchIngest
import SendWatchTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects every line it is given, copied.
struct CollectingConsumer: LineConsumer {
    var lines: [[UInt8]] = []
    mutating func consume(line: UnsafeRawBufferPointer) { lines.append(Array(line)) }
}

enum Compress {
    /// One zstd frame of `bytes` (with content checksum).
    static func zstdFrame(_ bytes: [UInt8], level: Int32 = 3) -> [UInt8] {
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let size = out.withUnsafeMutableBytes { o in
            bytes.withUnsafeBytes { i in ZSTD_compress2(context, o.baseAddress, o.count, i.baseAddress, i.count) }
        }
        precondition(ZSTD_isError(size) == 0)
        return Array(out[0..<size])
    }

    /// A zstd skippable frame with `payload`.
    static func zstdSkippable(_ payload: [UInt8], variant: UInt8 = 0) -> [UInt8] {
        let n = UInt32(payload.count)
        return [
            0x50 | variant, 0x2A, 0x4D, 0x18, UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF),
            UInt8(n >> 24),
        ] + payload
    }

    /// One gzip member of `bytes`.
    static func gzipMember(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(
            deflateInit2_(
                &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        var input = bytes
        let produced = out.withUnsafeMutableBytes { o in
            input.withUnsafeMutableBytes { i in
                stream.next_in = i.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(i.count)
                stream.next_out = o.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = UInt32(o.count)
                precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return o.count - Int(stream.avail_out)
            }
        }
        return Array(out[0..<produced])
    }

    /// One xz stream of `bytes` (preset 6, CRC64 check), as `xz` writes it.
    static func xzStream(_ bytes: [UInt8], preset: UInt32 = 6) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(lzma_stream_buffer_bound(bytes.count)))
        var position = 0
        let status = out.withUnsafeMutableBytes { o in
            bytes.withUnsafeBytes { i in
                lzma_easy_buffer_encode(
                    preset, LZMA_CHECK_CRC64, nil, i.baseAddress?.assumingMemoryBound(to: UInt8.self), i.count,
                    o.baseAddress?.assumingMemoryBound(to: UInt8.self), &position, o.count)
            }
        }
        precondition(status == LZMA_OK)
        return Array(out[0..<position])
    }

    /// One bzip2 stream of `bytes`, as `bzip2 -9` writes it.
    static func bzip2Stream(_ bytes: [UInt8], blockSize100k: Int32 = 9) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bytes.count + bytes.count / 100 + 1024)
        var size = UInt32(out.count)
        var input = bytes
        let status = out.withUnsafeMutableBytes { o in
            input.withUnsafeMutableBytes { i in
                BZ2_bzBuffToBuffCompress(
                    o.baseAddress?.assumingMemoryBound(to: CChar.self), &size,
                    i.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(i.count), blockSize100k, 0, 0)
            }
        }
        precondition(status == BZ_OK)
        return Array(out[0..<Int(size)])
    }

    /// One LZ4 frame of `bytes` (64 KiB blocks, so that a large input has many), as `lz4` writes it.
    static func lz4Frame(_ bytes: [UInt8]) -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        var out = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(bytes.count, &preferences))
        let size = out.withUnsafeMutableBytes { o in
            bytes.withUnsafeBytes { i in
                LZ4F_compressFrame(o.baseAddress, o.count, i.baseAddress, i.count, &preferences)
            }
        }
        precondition(LZ4F_isError(size) == 0)
        return Array(out[0..<size])
    }
}

/// A temporary directory removed on deinit.
final class TemporaryDirectory {
    let path: String
    init() {
        var template = Array("/tmp/sendwatch-ingest-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { buffer in
            guard let made = mkdtemp(buffer.baseAddress!) else { preconditionFailure("mkdtemp failed") }
            return String(cString: made)
        }
    }
    deinit {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }

    /// Writes `bytes` to `name` in this directory and returns the full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = path + "/" + name
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0)
                offset += n
            }
        }
        close(fd)
        return full
    }
}

/// Reads all decompressed bytes of `source` with reads of `chunk` bytes; returns them and the error, if any.
func readAll(_ source: inout InputSource, chunk: Int = 64 * 1024) -> (bytes: [UInt8], error: IngestError?) {
    var result: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        do {
            let n = try source.read(into: buffer)
            if n == 0 { return (result, nil) }
            result.append(contentsOf: buffer[0..<n])
        } catch {
            return (result, error)
        }
    }
}

/// Deterministic text: Postfix-like lines with varying numbers, `count` lines.
func sampleText(lines count: Int, seed: UInt64 = 1) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    var text: [UInt8] = []
    for i in 0..<count {
        let id = rng.next() % 0xFFFFF
        let line =
            "Nov 29 07:\(10 + i % 50):\(10 + i % 49) mx1 postfix/smtp[\(1000 + rng.next() % 9000)]: "
            + "\(String(id, radix: 16, uppercase: true)): to=<user\(rng.next() % 100000)@example.org>, "
            + "relay=mx.example.org[192.0.2.\(rng.next() % 255)]:25, delay=\(rng.next() % 100).\(rng.next() % 100), "
            + "status=sent (250 2.0.0 Ok: queued as \(rng.next() % 1_000_000))\n"
        text.append(contentsOf: Array(line.utf8))
    }
    return text
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}
