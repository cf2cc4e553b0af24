// Fuzz target: LineFramer over the input cut into random-size chunks, against a simple oracle.
//
// Input: the first 8 bytes seed the chunk sizes (and pick the maximum line length), the rest is the stream.

import SendWatchIngest

/// Collects the framed lines.
struct CollectedLines: LineConsumer {
    var lines: [[UInt8]] = []
    mutating func consume(line: UnsafeRawBufferPointer) { lines.append(Array(line)) }
}

/// The oracle: split on `\n`, drop lines longer than `limit` (counted before the `\r` is stripped), strip one
/// trailing `\r`; a last line without a newline counts too.
func oracleLines(_ stream: UnsafeRawBufferPointer, limit: Int) -> (lines: [[UInt8]], tooLong: Int) {
    var lines: [[UInt8]] = []
    var tooLong = 0
    for range in lineRanges(stream) {
        if range.count > limit {
            tooLong += 1
            continue
        }
        var line = Array(stream[range])
        if line.last == 0x0D { line.removeLast() }
        lines.append(line)
    }
    return (lines, tooLong)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    guard data.count >= 8 else { return 0 }
    var seed: UInt64 = 0
    for i in 0..<8 { seed = seed << 8 | UInt64(data[i]) }
    let stream = UnsafeRawBufferPointer(rebasing: data[8...])
    var rng = SplitMix(state: seed)
    let limit = [1, 2, 8, 64][Int(seed & 3)]
    let maxChunk = [1, 3, 17, 80, 300][Int((seed >> 2) % 5)]

    var framer = LineFramer(maxLineBytes: limit)
    var got = CollectedLines()
    var position = 0
    while position < stream.count {
        let size = min(stream.count - position, 1 + Int(rng.next() % UInt64(maxChunk)))
        // Each chunk in its own allocation, so that AddressSanitizer sees any read past it.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
        chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: stream[position..<(position + size)]))
        framer.push(UnsafeRawBufferPointer(chunk), to: &got)
        chunk.deallocate()
        position += size
    }
    framer.finish(to: &got)

    let expected = oracleLines(stream, limit: limit)
    guard got.lines == expected.lines else {
        fuzzFailure(
            "limit \(limit): framed \(got.lines.count) lines, oracle \(expected.lines.count): \(got.lines) vs \(expected.lines)"
        )
    }
    guard framer.lines == expected.lines.count, framer.linesTooLong == expected.tooLong else {
        fuzzFailure(
            "counters: lines \(framer.lines) tooLong \(framer.linesTooLong), oracle \(expected.lines.count) / \(expected.tooLong)"
        )
    }
    guard framer.bytes == Int64(stream.count), !framer.hasPartialLine else {
        fuzzFailure("bytes \(framer.bytes) of \(stream.count), partial after finish: \(framer.hasPartialLine)")
    }
    return 0
}
