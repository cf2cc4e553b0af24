import SendWatchIngest
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Offsets of the block headers of the zstd frame starting at `frame[0]` (parsed per RFC 8878).
private func zstdBlockHeaderOffsets(_ frame: [UInt8]) -> [Int] {
    let descriptor = frame[4]
    let singleSegment = descriptor & 0x20 != 0
    let dictionaryIDBytes = [0, 1, 2, 4][Int(descriptor & 3)]
    let contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
    var offset = 5 + (singleSegment ? 0 : 1) + dictionaryIDBytes + contentSizeBytes
    var headers: [Int] = []
    while true {
        headers.append(offset)
        let raw = Int(frame[offset]) | Int(frame[offset + 1]) << 8 | Int(frame[offset + 2]) << 16
        let size = raw >> 3
        let type = (raw >> 1) & 3
        offset += 3 + (type == 1 ? 1 : size)
        if raw & 1 == 1 { return headers }
    }
}

@Suite("InputSource")
struct InputSourceTests {
    let directory = TemporaryDirectory()

    private func open(_ path: String) throws -> InputSource {
        try InputSource.open(path: path)
    }

    @Test(
        "Compression is detected from magic bytes",
        arguments: [
            ([0x28, 0xB5, 0x2F, 0xFD, 0x00], Compression.zstd),
            ([0x50, 0x2A, 0x4D, 0x18], .zstd),
            ([0x5F, 0x2A, 0x4D, 0x18, 0x01], .zstd),
            ([0x60, 0x2A, 0x4D, 0x18], .none),
            ([0x4F, 0x2A, 0x4D, 0x18], .none),
            ([0x1F, 0x8B], .gzip),
            ([0x1F, 0x8B, 0x08, 0x00], .gzip),
            ([0x1F], .none),
            ([0x28, 0xB5, 0x2F], .none),
            ([], .none),
            (Array("Nov 29 mx postfix".utf8), .none),
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00], .xz),
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A], .none),
            (Array("BZh91AY&SY".utf8), .bzip2),
            (Array("BZh0".utf8), .none),
            (Array("BZhello".utf8), .none),
            ([0x04, 0x22, 0x4D, 0x18, 0x64], .lz4),
            ([0x02, 0x21, 0x4C, 0x18], .unsupported(name: "legacy lz4 (lz4 -l)")),
            ([0x1F, 0x9D, 0x90], .unsupported(name: "compress (.Z)")),
            (Array("LZIP\u{1}".utf8), .unsupported(name: "lzip")),
        ] as [([UInt8], Compression)]
    )
    func detect(magic: [UInt8], expected: Compression) {
        #expect(magic.withUnsafeBytes { Compression.detect(magic: $0) } == expected)
    }

    @Test("A plain file is passed through and has a modification time")
    func plain() throws {
        let text = sampleText(lines: 3000)
        var source = try open(directory.write("mail.log", text))
        #expect(source.compression == .none)
        #expect(source.modificationTime != nil)
        #expect(source.name.hasSuffix("mail.log"))
        let (bytes, error) = readAll(&source, chunk: 4096)
        #expect(error == nil)
        #expect(bytes == text)
        #expect(source.rawBytesRead == Int64(text.count))
        #expect(source.decompressedBytesRead == Int64(text.count))
    }

    @Test("Magic bytes win over the file name: gzip named .log, plain named .zst")
    func magicNotName() throws {
        let text = sampleText(lines: 50)
        var gzip = try open(directory.write("mail.log", Compress.gzipMember(text)))
        #expect(gzip.compression == .gzip)
        #expect(readAll(&gzip).bytes == text)
        var plain = try open(directory.write("mail.log.zst", text))
        #expect(plain.compression == .none)
        #expect(readAll(&plain).bytes == text)
    }

    @Test("Empty and tiny plain files", arguments: [[], [0x41], [0x1F], [0x28, 0xB5, 0x2F]] as [[UInt8]])
    func tiny(bytes: [UInt8]) throws {
        var source = try open(directory.write("tiny", bytes))
        #expect(source.compression == .none)
        let (read, error) = readAll(&source)
        #expect(read == bytes)
        #expect(error == nil)
    }

    @Test(
        "A compressed input cut inside its header is truncated, not empty",
        arguments: [
            [0x28, 0xB5, 0x2F, 0xFD], [0x28, 0xB5, 0x2F, 0xFD, 0x24], [0x50, 0x2A, 0x4D, 0x18, 0x08],
            [0x1F, 0x8B], [0x1F, 0x8B, 0x08, 0x00, 0x00],
        ] as [[UInt8]]
    )
    func cutInHeader(bytes: [UInt8]) throws {
        var source = try open(directory.write("header-only", bytes))
        #expect(source.compression != .none)
        let (read, error) = readAll(&source)
        #expect(read.isEmpty)
        #expect(error?.code == .truncatedCompressedData)
        #expect(error?.byteOffset == Int64(bytes.count))
    }

    @Test("zstd: frames, skippable frames in front, between and after, read with buffers of 1...64 bytes")
    func zstdFramesSmallReads() throws {
        let a = Array("Nov 29 first frame line\nsecond line\n".utf8)
        let b = Array("third line in frame two\r\nno newline at the end".utf8)
        let file =
            Compress.zstdSkippable(Array("logrotate".utf8), variant: 0xF) + Compress.zstdFrame(a)
            + Compress.zstdSkippable([], variant: 3) + Compress.zstdFrame(b) + Compress.zstdSkippable([1, 2, 3])
        let path = directory.write("frames.zst", file)
        for chunk in 1...64 {
            var source = try open(path)
            #expect(source.compression == .zstd)
            let (bytes, error) = readAll(&source, chunk: chunk)
            #expect(error == nil, "chunk \(chunk)")
            #expect(bytes == a + b, "chunk \(chunk)")
            #expect(source.rawBytesRead == Int64(file.count))
        }
    }

    @Test("zstd: concatenated multi-block files (cat a.zst b.zst) decode to both contents")
    func zstdConcatenated() throws {
        let a = sampleText(lines: 6000, seed: 1)
        let b = sampleText(lines: 5000, seed: 2)
        let file = Compress.zstdFrame(a, level: 1) + Compress.zstdFrame(b, level: 19)
        var source = try open(directory.write("cat.log", file))
        let (bytes, error) = readAll(&source, chunk: 100_000)
        #expect(error == nil)
        #expect(bytes == a + b)
    }

    @Test("zstd: a file of only a skippable frame is empty")
    func zstdOnlySkippable() throws {
        var source = try open(directory.write("skip.zst", Compress.zstdSkippable(Array("meta".utf8))))
        #expect(source.compression == .zstd)
        let (bytes, error) = readAll(&source)
        #expect(bytes.isEmpty)
        #expect(error == nil)
    }

    @Test("zstd: a truncated file returns the good bytes, then throws .truncatedCompressedData at the end offset")
    func zstdTruncated() throws {
        let text = sampleText(lines: 8000)
        let frame = Compress.zstdFrame(text)
        let cut = Array(frame[0..<(frame.count * 6 / 10)])
        var source = try open(directory.write("cut.zst", cut))
        let (bytes, error) = readAll(&source, chunk: 50_000)
        let thrown = try #require(error)
        #expect(thrown.code == .truncatedCompressedData)
        #expect(thrown.byteOffset == Int64(cut.count))
        #expect(bytes.count >= 256 * 1024)
        #expect(Array(text[0..<bytes.count]) == bytes)
        // Further reads keep failing the same way.
        let again = readAll(&source)
        #expect(again.bytes.isEmpty)
        #expect(again.error?.code == .truncatedCompressedData)
    }

    @Test("zstd: a damaged block header stops exactly at that block, all earlier blocks delivered")
    func zstdCorruptBlockHeader() throws {
        let text = sampleText(lines: 8000)
        var frame = Compress.zstdFrame(text)
        let headers = zstdBlockHeaderOffsets(frame)
        try #require(headers.count >= 5)
        frame[headers[3]] |= 0b110  // block type 3 is reserved
        let path = directory.write("damaged.zst", frame)
        for chunk in [1000, 65536, 128 * 1024, 256 * 1024, 1 << 20] {
            var source = try open(path)
            let (bytes, error) = readAll(&source, chunk: chunk)
            let thrown = try #require(error)
            #expect(thrown.code == .corruptCompressedData)
            #expect(thrown.byteOffset == Int64(headers[3]))
            #expect(bytes == Array(text[0..<(3 * 128 * 1024)]), "chunk \(chunk)")
        }
    }

    @Test("gzip: a member whose CRC fails is read whole, and the error says the damage is somewhere in it")
    func gzipDataCheck() throws {
        let text = sampleText(lines: 2000, seed: 7)
        var member = Compress.gzipMember(text)
        member[member.count - 8] ^= 0xFF  // the CRC-32 in the trailer
        var source = try open(directory.write("crc.gz", member))
        let (bytes, error) = readAll(&source)
        let thrown = try #require(error)
        #expect(bytes == text, "the member is decoded before its check fails")
        #expect(thrown.code == .corruptCompressedData)
        // Before: "gzip data rejected (incorrect data check)" at the trailer's offset, and "Lines before this offset
        // were read; the rest of the file is damaged", as if the damage were there.
        #expect(thrown.message.contains("incorrect data check"), "\(thrown)")
        #expect(
            thrown.message.contains("damaged somewhere before this point (gzip cannot tell where)"), "\(thrown)")
        #expect(!"\(thrown)".contains("Lines before this offset were read"))
    }

    @Test("zstd: a damaged second frame stops after the first frame, at the second frame's offset")
    func zstdCorruptSecondFrame() throws {
        let a = sampleText(lines: 3000, seed: 5)
        let first = Compress.zstdFrame(a)
        var second = Compress.zstdFrame(sampleText(lines: 10, seed: 6))
        second[0] = 0x29
        var source = try open(directory.write("two.zst", first + second))
        let (bytes, error) = readAll(&source)
        #expect(bytes == a)
        #expect(error?.code == .corruptCompressedData)
        #expect(error?.byteOffset == Int64(first.count))
    }

    @Test("zstd: a flipped byte in the middle is reported as corrupt", arguments: [0.3, 0.5, 0.7])
    func zstdFlippedByte(position: Double) throws {
        let text = sampleText(lines: 8000)
        var frame = Compress.zstdFrame(text)
        let damage = Int(Double(frame.count) * position)
        frame[damage] ^= 0x5A
        var source = try open(directory.write("flip.zst", frame))
        let (bytes, error) = readAll(&source)
        let thrown = try #require(error)
        #expect(thrown.code == .corruptCompressedData)
        #expect(try #require(thrown.byteOffset) <= Int64(frame.count))
        // Every complete block before the damaged one was delivered intact.
        let blocksBefore = zstdBlockHeaderOffsets(frame).filter { $0 + 3 <= damage }.count - 1
        #expect(bytes.count >= blocksBefore * 128 * 1024)
        #expect(Array(bytes.prefix(blocksBefore * 128 * 1024)) == Array(text.prefix(blocksBefore * 128 * 1024)))
    }

    /// xz, bzip2 and LZ4: each writer of the test support, with how a file of several units is made.
    static let otherFormats: [(name: String, compression: Compression, unit: @Sendable ([UInt8]) -> [UInt8])] = [
        ("xz", .xz, { Compress.xzStream($0) }),
        ("bzip2", .bzip2, { Compress.bzip2Stream($0) }),
        ("lz4", .lz4, { Compress.lz4Frame($0) }),
    ]

    @Test(
        "xz, bzip2, lz4: several concatenated streams or frames are read whole, with any buffer size",
        arguments: [0, 1, 2])
    func otherFormatsConcatenated(format: Int) throws {
        let (name, compression, unit) = Self.otherFormats[format]
        let a = sampleText(lines: 20, seed: 1)
        let b = sampleText(lines: 3000, seed: 2)
        let c = Array("last unit without newline".utf8)
        let path = directory.write("members.log.\(name)", unit(a) + unit(b) + unit(c))
        for chunk in [1, 3, 17, 4096, 1 << 20] {
            var source = try open(path)
            #expect(source.compression == compression)
            let (bytes, error) = readAll(&source, chunk: chunk)
            #expect(error == nil, "\(name), chunk \(chunk): \(String(describing: error))")
            #expect(bytes == a + b + c, "\(name), chunk \(chunk)")
        }
    }

    @Test(
        "xz, bzip2, lz4: a cut-off file returns the good bytes, then throws .truncatedCompressedData",
        arguments: [0, 1, 2])
    func otherFormatsTruncated(format: Int) throws {
        let (name, _, unit) = Self.otherFormats[format]
        let text = sampleText(lines: 20_000)
        let whole = unit(text)
        let cut = Array(whole[0..<(whole.count * 3 / 4)])
        var source = try open(directory.write("cut.\(name)", cut))
        let (bytes, error) = readAll(&source, chunk: 10_000)
        #expect(error?.code == .truncatedCompressedData, "\(name): \(String(describing: error))")
        #expect(bytes.count < text.count)
        #expect(Array(text[0..<bytes.count]) == bytes, "\(name)")
    }

    @Test(
        "xz, bzip2, lz4: damage in the middle is .corruptCompressedData, with the first half delivered intact",
        arguments: [0, 1, 2])
    func otherFormatsCorrupt(format: Int) throws {
        let (name, _, unit) = Self.otherFormats[format]
        let text = sampleText(lines: 20_000)
        // Two units: the damage is in the second, so the first must come through whole and unchanged. (Within a
        // damaged xz block or LZ4 frame, bytes may be delivered before the block's check fails: their checks
        // come at the end.)
        let first = unit(Array(text[0..<(text.count / 2)]))
        var second = unit(Array(text[(text.count / 2)...]))
        for i in stride(from: second.count / 2, to: second.count / 2 + 64, by: 1) { second[i] ^= 0xA5 }
        var source = try open(directory.write("flip.\(name)", first + second))
        let (bytes, error) = readAll(&source, chunk: 10_000)
        #expect(error?.code == .corruptCompressedData, "\(name): \(String(describing: error))")
        let offset = try #require(error?.byteOffset)
        #expect(offset >= Int64(first.count), "\(name)")
        #expect(bytes.count >= text.count / 2, "\(name)")
        #expect(bytes.prefix(text.count / 2).elementsEqual(text.prefix(text.count / 2)), "\(name)")
    }

    @Test(
        "Formats recognised but not read fail to open by name instead of being read as text",
        arguments: [
            ([0x1F, 0x9D, 0x90, 0x41], "compress (.Z)"), (Array("LZIP\u{1}abc".utf8), "lzip"),
            ([0x02, 0x21, 0x4C, 0x18, 0x00], "legacy lz4 (lz4 -l)"),
        ] as [([UInt8], String)])
    func unsupportedCompression(bytes: [UInt8], name: String) throws {
        let path = directory.write("old.log", bytes)
        let error = #expect(throws: IngestError.self) { _ = try InputSource.open(path: path) }
        #expect(error?.code == .unsupportedCompression)
        #expect(error?.description.contains(name) == true)
    }

    @Test("gzip: multiple members (gzip a >> b) with zero padding after the last, read with small buffers")
    func gzipMembers() throws {
        let a = sampleText(lines: 20, seed: 1)
        let b = sampleText(lines: 3000, seed: 2)
        let c = Array("last member without newline".utf8)
        let file =
            Compress.gzipMember(a) + Compress.gzipMember(b, level: 1) + Compress.gzipMember(c)
            + [UInt8](repeating: 0, count: 512)
        let path = directory.write("members.log", file)
        for chunk in [1, 3, 17, 4096, 1 << 20] {
            var source = try open(path)
            #expect(source.compression == .gzip)
            let (bytes, error) = readAll(&source, chunk: chunk)
            #expect(error == nil, "chunk \(chunk)")
            #expect(bytes == a + b + c, "chunk \(chunk)")
        }
    }

    @Test("gzip: a truncated member returns the good bytes, then throws .truncatedCompressedData")
    func gzipTruncated() throws {
        let text = sampleText(lines: 8000)
        let member = Compress.gzipMember(text)
        let cut = Array(member[0..<(member.count / 2)])
        var source = try open(directory.write("cut.gz", cut))
        let (bytes, error) = readAll(&source, chunk: 10_000)
        #expect(error?.code == .truncatedCompressedData)
        #expect(error?.byteOffset == Int64(cut.count))
        #expect(bytes.count > 100_000)
        #expect(Array(text[0..<bytes.count]) == bytes)
    }

    @Test("gzip: a damaged second member stops after the first; a flipped byte is corrupt")
    func gzipCorrupt() throws {
        let a = sampleText(lines: 500, seed: 3)
        let first = Compress.gzipMember(a)
        var second = Compress.gzipMember(sampleText(lines: 500, seed: 4))
        second[1] = 0x8C
        var source = try open(directory.write("two.gz", first + second))
        let (bytes, error) = readAll(&source)
        #expect(bytes == a)
        #expect(error?.code == .corruptCompressedData)
        let offset = try #require(error?.byteOffset)
        #expect(offset >= Int64(first.count) && offset <= Int64(first.count + 2))

        var flipped = Compress.gzipMember(sampleText(lines: 8000))
        flipped[flipped.count / 2] ^= 0x5A
        var damaged = try open(directory.write("flip.gz", flipped))
        #expect(readAll(&damaged).error?.code == .corruptCompressedData)
    }

    @Test("Opening a directory or a device gives .notARegularFile, a missing file .openFailed")
    func notAFile() throws {
        let directoryError = #expect(throws: IngestError.self) { _ = try InputSource.open(path: directory.path) }
        #expect(directoryError?.code == .notARegularFile)
        #expect(directoryError?.description.contains(directory.path) == true)
        #expect(directoryError?.description.contains("directory") == true)
        let deviceError = #expect(throws: IngestError.self) { _ = try InputSource.open(path: "/dev/null") }
        #expect(deviceError?.code == .notARegularFile)
        let missing = #expect(throws: IngestError.self) {
            _ = try InputSource.open(path: directory.path + "/missing.log")
        }
        #expect(missing?.code == .openFailed)
        #expect(missing?.underlyingErrno == ENOENT)
        #expect(missing?.description.contains("missing.log") == true)
    }

    @Test("A pipe opened through /dev/fd is read and its compression detected", arguments: [false, true])
    func pipeThroughDevFd(compressed: Bool) throws {
        let text = sampleText(lines: 100)
        let payload = compressed ? Compress.zstdFrame(text) : text
        try #require(payload.count < 60_000)  // fits the pipe buffer, so no writer thread is needed
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        payload.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(ends[1], raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        close(ends[1])
        var source = try InputSource.open(path: "/dev/fd/\(ends[0])")
        #expect(source.compression == (compressed ? .zstd : .none))
        #expect(source.modificationTime == nil)
        let (bytes, error) = readAll(&source, chunk: 1000)
        #expect(error == nil)
        #expect(bytes == text)
    }

    @Test("The error description names the file, the offset and what to do")
    func errorDescription() {
        let error = IngestError(
            code: .corruptCompressedData, message: "zstd rejected the data", path: "/var/log/mail.log.1.zst",
            byteOffset: 4096)
        #expect(error.description.contains("/var/log/mail.log.1.zst at byte 4096"))
        #expect(error.description.contains("corrupt_compressed_data"))
        #expect(error.description.contains("decoded before this offset was read"))
        let stdin = IngestError(code: .readFailed, message: "cannot read", path: "-", underlyingErrno: EIO)
        #expect(stdin.description.contains("<stdin>"))
        #expect(stdin.description.contains("errno \(EIO)"))
    }
}
