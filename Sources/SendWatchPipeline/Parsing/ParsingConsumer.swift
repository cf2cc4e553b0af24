import SendWatchCore
import SendWatchFormats
import SendWatchIngest

/// Frames lines into one parser of a known format and hands the events to the sink: the per-line loop of an
/// input, generic over the parser so that the parse call is direct (the format is chosen once per input).
///
/// Owns its parser and the sink for the duration of an input (both are moved in and out, never copied: a copy
/// of the sink would make every array in it, such as the detection engine's tables, copy itself on its first
/// write).
struct ParsingConsumer<Sink: EventSink, Parser: EventParser>: LineConsumer {
    var parser: Parser
    var sink: Sink
    var batch: EventBatch
    /// Lines consumed.
    var lines = 0

    @inline(__always)
    mutating func consume(line: UnsafeRawBufferPointer) {
        lines += 1
        parse(line)
    }

    /// Parses a line counted elsewhere (one held while the format was being recognised).
    @inline(__always)
    mutating func parse(_ line: UnsafeRawBufferPointer) {
        _ = parser.parse(line: line, into: &batch)
        if batch.count >= Sink.preferredBatchCount { handOver() }
    }

    /// Hands the gathered events to the sink.
    mutating func handOver() {
        guard !batch.isEmpty else { return }
        sink.accept(&batch)
        batch.removeAll(keepingCapacity: true)
    }
}

/// One input read with the parser of its format: ``ParserVisitor`` for ``RegisteredFormats``, which hands over
/// the parser as its concrete type, so ``ParsingConsumer`` and the framing loop are specialised for it.
///
/// First parses the lines held while the format was being recognised, then (unless the input already ended)
/// reads the rest of the input.
struct InputVisit<Sink: EventSink>: ParserVisitor, ~Copyable {
    var source: InputSource
    /// Present except while the consumer holds it.
    var sink: Sink?
    var framer: LineFramer
    var batch: EventBatch
    let held: [[UInt8]]
    let yearHint: YearHint
    /// Whether to read the rest of `source` after the held lines.
    let readRest: Bool
    let prefetch: Prefetch
    /// Lines read by this visit (held lines were counted when read).
    var lines = 0
    /// The damage met reading the rest of the input.
    var failure: IngestError?

    mutating func visit<Format: FormatComponent>(
        _ format: Format.Type, parser: consuming Format.Parser
    ) -> Format.Parser {
        // Safe to force unwrap: the sink is present between consumers, and this is the only one.
        var consumer = ParsingConsumer(parser: parser, sink: sink.take()!, batch: batch)
        batch = []
        consumer.parser.beginInput(yearHint: yearHint)
        for line in held {
            line.withUnsafeBytes { consumer.parse($0) }
        }
        if readRest {
            do {
                try readLines(from: &source, framer: &framer, into: &consumer, prefetch: prefetch)
            } catch {
                failure = error
            }
        }
        lines = consumer.lines
        sink = consumer.sink
        batch = consumer.batch
        return consumer.parser
    }
}
