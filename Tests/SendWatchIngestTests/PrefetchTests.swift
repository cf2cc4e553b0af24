import SendWatchIngest
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads `path` with `prefetch` and returns the lines, the error (if any) and the framer's counters.
private func readAll(
    _ path: String, prefetch: Prefetch, chunkBytes: Int
) throws -> (lines: [[UInt8]], error: IngestError?, counters: [Int64], sourceBytes: [Int64]) {
    var source = try InputSource.open(path: path)
    var framer = LineFramer(maxLineBytes: 300)
    var consumer = CollectingConsumer()
    var failure: IngestError?
    do {
        try readLines(from: &source, framer: &framer, into: &consumer, chunkBytes: chunkBytes, prefetch: prefetch)
    } catch {
        failure = error
    }
    let counters = [Int64(framer.lines), Int64(framer.linesTooLong), Int64(framer.partialLinesDropped), framer.bytes]
    return (consumer.lines, failure, counters, [source.rawBytesRead, source.decompressedBytesRead])
}

@Suite("Prefetch")
struct PrefetchTests {
    let directory = TemporaryDirectory()

    /// Inputs: whole, cut in half, with a corrupted byte, for each compression; long lines included.
    private func inputs() -> [(String, String)] {
        var text = sampleText(lines: 20_000, seed: 7)
        text += Array(repeating: UInt8(ascii: "x"), count: 1000) + [0x0A] + Array("tail without newline".utf8)
        let zstd = Compress.zstdFrame(text)
        let gzip = Compress.gzipMember(text)
        var corrupt = zstd
        corrupt[corrupt.count / 3] ^= 0xFF
        var corruptGzip = gzip
        corruptGzip[corruptGzip.count / 3] ^= 0xFF
        return [
            ("plain", directory.write("plain.log", text)),
            ("zstd", directory.write("whole.zst", zstd)),
            ("zstd truncated", directory.write("cut.zst", Array(zstd[0..<(zstd.count / 2)]))),
            ("zstd corrupt", directory.write("corrupt.zst", corrupt)),
            ("zstd twice", directory.write("twice.zst", zstd + zstd)),
            ("gzip", directory.write("whole.gz", gzip)),
            ("gzip truncated", directory.write("cut.gz", Array(gzip[0..<(gzip.count / 2)]))),
            ("gzip corrupt", directory.write("corrupt.gz", corruptGzip)),
            ("empty zstd", directory.write("empty.zst", Compress.zstdFrame([]))),
        ]
    }

    @Test(
        "A decoder thread yields the same lines, error, offset and counters as reading inline",
        arguments: [997, 64 * 1024, 256 * 1024])
    func sameAsInline(chunkBytes: Int) throws {
        for (label, path) in inputs() {
            let inline = try readAll(path, prefetch: .off, chunkBytes: chunkBytes)
            let threaded = try readAll(path, prefetch: .thread, chunkBytes: chunkBytes)
            #expect(threaded.lines == inline.lines, "\(label)")
            #expect(threaded.counters == inline.counters, "\(label)")
            #expect(threaded.error?.code == inline.error?.code, "\(label)")
            #expect(threaded.error?.byteOffset == inline.error?.byteOffset, "\(label)")
            #expect(threaded.error?.description == inline.error?.description, "\(label)")
            if label.contains("truncated") || label.contains("corrupt") {
                #expect(inline.error != nil, "\(label)")
            } else {
                #expect(inline.error == nil, "\(label)")
                #expect(threaded.sourceBytes == inline.sourceBytes, "\(label)")
            }
        }
    }

    @Test("A consumer slower than the decoder: the decoder waits for free chunks, is woken, and nothing is lost")
    func slowConsumer() throws {
        let text = sampleText(lines: 20_000, seed: 11)
        let path = directory.write("slow.zst", Compress.zstdFrame(text))
        var source = try InputSource.open(path: path)
        var framer = LineFramer(maxLineBytes: 300)
        var consumer = SlowConsumer()
        try readLines(from: &source, framer: &framer, into: &consumer, chunkBytes: 1024, prefetch: .thread)
        let expected = try readAll(path, prefetch: .off, chunkBytes: 1024)
        #expect(consumer.inner.lines == expected.lines)
        #expect(consumer.inner.lines.count > 19_000)
    }

    @Test(
        "Automatic prefetch: a thread only for compressed inputs on two or more cores",
        arguments: [
            (Compression.none, 8, Prefetch.off), (.zstd, 8, .thread), (.gzip, 2, .thread), (.zstd, 1, .off),
        ])
    func automatic(compression: Compression, cores: Int, expected: Prefetch) {
        #expect(Prefetch.automatic.resolved(for: compression, cores: cores) == expected)
        #expect(Prefetch.off.resolved(for: compression, cores: cores) == .off)
        #expect(Prefetch.thread.resolved(for: compression, cores: cores) == .thread)
    }

    @Test("Many short prefetching reads start and join their threads cleanly")
    func manyRuns() throws {
        let path = directory.write("small.zst", Compress.zstdFrame(sampleText(lines: 50, seed: 3)))
        let expected = try readAll(path, prefetch: .off, chunkBytes: 512).lines
        for _ in 0..<200 {
            #expect(try readAll(path, prefetch: .thread, chunkBytes: 512).lines == expected)
        }
    }
}

/// Collects lines and pauses now and then, so that the decoder thread fills every chunk and waits.
private struct SlowConsumer: LineConsumer {
    var inner = CollectingConsumer()
    mutating func consume(line: UnsafeRawBufferPointer) {
        inner.consume(line: line)
        if inner.lines.count % 500 == 0 { usleep(2_000) }
    }
}
