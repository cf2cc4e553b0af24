import SendWatchFormats
import SendWatchIngest

/// Reads an input chunk by chunk until its format is recognised (or the input ends): the lines of the chunk in
/// which the format is decided are held too, and the rest of the input is then read by the format's parser
/// (``InputVisit``), so the per-line loop after detection is specialised for that parser.
///
/// Reads on the calling thread (the decoder thread of ``Prefetch`` starts with the rest of the input); the
/// lines, their order and every counter are those of reading the input in one loop. Memory: the held lines,
/// at most ``FormatDetection/byteLimit`` plus the rest of one chunk (256 KiB) plus one line.
struct DetectingConsumer: LineConsumer {
    var detection: FormatDetection
    var decided: LogFormat?
    var lines = 0

    mutating func consume(line: UnsafeRawBufferPointer) {
        lines += 1
        if decided != nil {
            detection.held.append(Array(line))
        } else {
            decided = detection.hold(line)
        }
    }

    /// Reads chunks of `source` until the format is decided; returns whether the input ended.
    ///
    /// - Throws: the damage met; the lines before it were held (the unfinished line is dropped).
    mutating func read(_ source: inout InputSource, framer: inout LineFramer) throws(IngestError) -> Bool {
        let chunkBytes = 256 * 1024
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        defer { buffer.deallocate() }
        while decided == nil {
            guard try readChunk(from: &source, into: buffer, framer: &framer, to: &self) else { return true }
        }
        return false
    }
}
