import SendWatchIngest
import SendWatchTesting
import Testing

/// The reference: split on `\n`, a final piece without `\n` is a line if not empty, pieces longer than the
/// bound (counting a `\r`) are dropped and counted, one trailing `\r` is removed.
private func oracle(_ input: [UInt8], maxLineBytes: Int) -> (lines: [[UInt8]], tooLong: Int) {
    var pieces = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    if pieces.last?.isEmpty == true { pieces.removeLast() }
    var lines: [[UInt8]] = []
    var tooLong = 0
    for var piece in pieces {
        if piece.count > maxLineBytes {
            tooLong += 1
            continue
        }
        if piece.last == 0x0D { piece.removeLast() }
        lines.append(piece)
    }
    return (lines, tooLong)
}

/// Feeds `input` in chunks of `chunkSize` bytes, with an empty chunk before every `emptyEvery`-th chunk.
private func frame(
    _ input: [UInt8], chunkSize: Int, maxLineBytes: Int, emptyEvery: Int = 3
) -> (lines: [[UInt8]], framer: LineFramer) {
    var framer = LineFramer(maxLineBytes: maxLineBytes)
    var consumer = CollectingConsumer()
    input.withUnsafeBytes { all in
        var offset = 0
        var index = 0
        while offset < all.count {
            if index % emptyEvery == 0 {
                framer.push(UnsafeRawBufferPointer(rebasing: all[offset..<offset]), to: &consumer)
            }
            let end = min(all.count, offset + chunkSize)
            framer.push(UnsafeRawBufferPointer(rebasing: all[offset..<end]), to: &consumer)
            offset = end
            index += 1
        }
    }
    framer.finish(to: &consumer)
    return (consumer.lines, framer)
}

private func randomInput(seed: UInt64, length: Int, maxLineBytes: Int) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    var bytes: [UInt8] = []
    while bytes.count < length {
        // Line lengths cluster around the bound so both sides of it are hit often.
        let lineLength = Int(rng.next() % UInt64(maxLineBytes + 6))
        for _ in 0..<lineLength {
            let r = rng.next() % 20
            bytes.append(r == 0 ? 0x0D : UInt8(ascii: "a") + UInt8(r % 26))
        }
        switch rng.next() % 4 {
        case 0: bytes.append(contentsOf: [0x0D, 0x0A])
        case 1: bytes.append(contentsOf: [0x0A, 0x0A])
        default: bytes.append(0x0A)
        }
    }
    if seed % 2 == 0 {
        // No trailing newline for every other input.
        while bytes.last == 0x0A || bytes.last == 0x0D { bytes.removeLast() }
        bytes.append(contentsOf: Array("tail".utf8))
    }
    return bytes
}

@Suite("LineFramer")
struct LineFramerTests {
    @Test("Random input framed in chunks of every size 1...N matches the split oracle", arguments: 0..<12)
    func randomChunks(seed: Int) {
        let maxLineBytes = 16
        let input = randomInput(seed: UInt64(seed), length: 400, maxLineBytes: maxLineBytes)
        let expected = oracle(input, maxLineBytes: maxLineBytes)
        for chunkSize in 1...input.count {
            let (lines, framer) = frame(
                input, chunkSize: chunkSize, maxLineBytes: maxLineBytes,
                emptyEvery: 1 + seed % 4)
            #expect(lines == expected.lines, "chunk size \(chunkSize)")
            #expect(framer.linesTooLong == expected.tooLong, "chunk size \(chunkSize)")
            #expect(framer.lines == expected.lines.count)
            #expect(framer.bytes == Int64(input.count))
            #expect(framer.hasPartialLine == false)
        }
    }

    @Test(
        "Fixed cases frame as the oracle says",
        arguments: [
            "", "\n", "\n\n", "a", "a\n", "a\r\n", "a\r", "\r\n", "\r\r\n", "a\rb\n", "abc\ndef", "abc\r\ndef\r\n",
            "exactly8\n", "exactly8\r\n", "toolong-9\nok\n", "waytoolongforthebound\nnext\n", "waytoolongnonewline",
        ]
    )
    func fixedCases(text: String) {
        let input = Array(text.utf8)
        let expected = oracle(input, maxLineBytes: 8)
        for chunkSize in 1...max(1, input.count) {
            let (lines, framer) = frame(input, chunkSize: chunkSize, maxLineBytes: 8)
            #expect(lines == expected.lines, "chunk size \(chunkSize)")
            #expect(framer.linesTooLong == expected.tooLong)
        }
    }

    @Test("An overlong line is skipped and counted once; the line after it is intact")
    func overlongLine() {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        let input = Array("first\n".utf8) + long + Array("\nafter\r\n".utf8)
        for chunkSize in [1, 7, 64, 999, 1000, 1001, 2000] {
            let (lines, framer) = frame(input, chunkSize: chunkSize, maxLineBytes: 100)
            #expect(lines == [Array("first".utf8), Array("after".utf8)], "chunk size \(chunkSize)")
            #expect(framer.linesTooLong == 1)
            #expect(framer.lines == 2)
        }
    }

    @Test("Lines of exactly maxLineBytes pass, one byte more is too long (a \\r counts)")
    func boundary() {
        let ok = [UInt8](repeating: UInt8(ascii: "a"), count: 10)
        let input = ok + [0x0A] + ok + [0x0D, 0x0A] + ok + [UInt8(ascii: "b"), 0x0A] + ok
        for chunkSize in 1...input.count {
            let (lines, framer) = frame(input, chunkSize: chunkSize, maxLineBytes: 10)
            #expect(lines == [ok, ok])
            #expect(framer.linesTooLong == 2)
        }
    }

    @Test("Empty lines are passed on as empty buffers")
    func emptyLines() {
        let (lines, _) = frame(Array("\n\r\na\n\n".utf8), chunkSize: 100, maxLineBytes: 10)
        #expect(lines == [[], [], Array("a".utf8), []])
    }

    @Test("Complete lines inside a chunk are passed without copying")
    func zeroCopy() {
        struct AddressRecorder: LineConsumer {
            var addresses: [UnsafeRawPointer?] = []
            mutating func consume(line: UnsafeRawBufferPointer) { addresses.append(line.baseAddress) }
        }
        var framer = LineFramer()
        var recorder = AddressRecorder()
        let input = Array("one\ntwo\r\nthree\npartial".utf8)
        input.withUnsafeBytes { chunk in
            framer.push(chunk, to: &recorder)
            #expect(recorder.addresses == [chunk.baseAddress, chunk.baseAddress! + 4, chunk.baseAddress! + 9])
        }
        #expect(framer.hasPartialLine)
    }

    @Test("reset drops a partial line and counts it; finish emits it instead")
    func resetAndFinish() {
        var framer = LineFramer(maxLineBytes: 8)
        var consumer = CollectingConsumer()
        Array("done\npart".utf8).withUnsafeBytes { framer.push($0, to: &consumer) }
        #expect(framer.reset() == true)
        #expect(framer.partialLinesDropped == 1)
        #expect(framer.reset() == false)
        Array("new\nlast\r".utf8).withUnsafeBytes { framer.push($0, to: &consumer) }
        framer.finish(to: &consumer)
        #expect(consumer.lines == [Array("done".utf8), Array("new".utf8), Array("last".utf8)])
        // The rest of an overlong line is not counted twice.
        Array("muchtoolongline".utf8).withUnsafeBytes { framer.push($0, to: &consumer) }
        #expect(framer.linesTooLong == 1)
        #expect(framer.reset() == true)
        #expect(framer.partialLinesDropped == 1)
        #expect(framer.lines == 3)
    }
}
