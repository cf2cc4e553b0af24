import Foundation
import SendWatchIngest
import Testing

private func splitLines(_ text: [UInt8]) -> [[UInt8]] {
    var pieces = text.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    if pieces.last?.isEmpty == true { pieces.removeLast() }
    return pieces.map { $0.last == 0x0D ? Array($0.dropLast()) : $0 }
}

@Suite("readLines")
struct ReadLinesTests {
    let directory = TemporaryDirectory()

    @Test("Plain, zstd and gzip inputs yield the same lines", arguments: ["none", "zstd", "gzip"])
    func sameLines(kind: String) throws {
        let text = sampleText(lines: 5000) + Array("crlf line\r\nfinal line without newline".utf8)
        let file: [UInt8] =
            switch kind {
            case "zstd": Compress.zstdFrame(text)
            case "gzip": Compress.gzipMember(text)
            default: text
            }
        var source = try InputSource.open(path: directory.write("in", file))
        var framer = LineFramer()
        var consumer = CollectingConsumer()
        try readLines(from: &source, framer: &framer, into: &consumer, chunkBytes: 10_000)
        #expect(consumer.lines == splitLines(text))
        #expect(framer.lines == consumer.lines.count)
        #expect(framer.bytes == Int64(text.count))
        #expect(framer.partialLinesDropped == 0)
    }

    @Test("Damage mid-line: complete lines before it are delivered, the partial line is dropped and counted")
    func damage() throws {
        let text = sampleText(lines: 8000)
        let frame = Compress.zstdFrame(text)
        var source = try InputSource.open(path: directory.write("cut.zst", Array(frame[0..<(frame.count / 2)])))
        var framer = LineFramer()
        var consumer = CollectingConsumer()
        let error = #expect(throws: IngestError.self) {
            try readLines(from: &source, framer: &framer, into: &consumer)
        }
        #expect(error?.code == .truncatedCompressedData)
        let all = splitLines(text)
        #expect(consumer.lines.count > 1000)
        #expect(consumer.lines == Array(all.prefix(consumer.lines.count)))
        // 128 KiB blocks do not end on line boundaries here, so a partial line was pending.
        #expect(framer.partialLinesDropped == 1)
        #expect(framer.hasPartialLine == false)
    }

    @Test(
        "Files written by the zstd and gzip CLIs decode",
        arguments: ["cli-two-frames.log.zst", "cli-two-members.log.gz"])
    func cliFixtures(name: String) throws {
        let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let expected = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("cli-expected.log")))
        var source = try InputSource.open(path: fixtures.appendingPathComponent(name).path)
        #expect(source.compression == (name.hasSuffix("zst") ? .zstd : .gzip))
        var framer = LineFramer()
        var consumer = CollectingConsumer()
        try readLines(from: &source, framer: &framer, into: &consumer, chunkBytes: 7)
        #expect(consumer.lines == splitLines(expected))
        #expect(consumer.lines.count == 4)
    }
}
