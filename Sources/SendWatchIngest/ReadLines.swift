/// Reads `source` to its end and frames it into lines for `consumer`, with one reused chunk buffer.
///
/// Loops ``InputSource/read(into:)`` → ``LineFramer/push(_:to:)`` and calls ``LineFramer/finish(to:)`` at the
/// end of the input. When the input turns out to be damaged (corrupt or truncated compressed data, or a read
/// error), every complete line decoded before the damage has been passed on; the unfinished line at the damage
/// point is dropped (``LineFramer/reset()``, counted in ``LineFramer/partialLinesDropped``) and the error is
/// rethrown.
///
/// Usage:
/// ```swift
/// var source = try InputSource.open(path: path)
/// var framer = LineFramer()
/// try readLines(from: &source, framer: &framer, into: &parser)
/// ```
///
/// - Parameters:
///   - source: the input, read to its end (or to the error).
///   - framer: frames the bytes; its counters keep counting across calls.
///   - consumer: receives every line.
///   - chunkBytes: size of the decompressed chunk buffer, allocated once per call (default 256 KiB).
///   - prefetch: whether to decode on a second thread (``Prefetch``; default ``Prefetch/off``). The lines,
///     the error and every counter are the same either way.
/// - Throws: the ``IngestError`` from `source`.
/// - Complexity: O(n) in the decompressed size; memory is `chunkBytes` (``Prefetch/chunkCount`` × `chunkBytes`
///   with a decoder thread) plus the source's and framer's bounds.
public func readLines<C: LineConsumer>(
    from source: inout InputSource,
    framer: inout LineFramer,
    into consumer: inout C,
    chunkBytes: Int = 256 * 1024,
    prefetch: Prefetch = .off
) throws(IngestError) {
    switch prefetch.resolved(for: source.compression) {
    case .thread:
        try readLinesPrefetching(from: &source, framer: &framer, into: &consumer, chunkBytes: chunkBytes)
    case .off, .automatic:
        try readLinesInline(from: &source, framer: &framer, into: &consumer, chunkBytes: chunkBytes)
    }
}

/// ``readLines(from:framer:into:chunkBytes:prefetch:)`` on the calling thread.
func readLinesInline<C: LineConsumer>(
    from source: inout InputSource,
    framer: inout LineFramer,
    into consumer: inout C,
    chunkBytes: Int
) throws(IngestError) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunkBytes, 1), alignment: 16)
    defer { buffer.deallocate() }
    while try readChunk(from: &source, into: buffer, framer: &framer, to: &consumer) {}
}

/// Reads the next chunk of `source` into `buffer` and frames it for `consumer`; `false` when the input has
/// ended (and the framer has finished it). The step ``readLines(from:framer:into:chunkBytes:prefetch:)``
/// repeats, for a caller that stops early (format detection reads only until the format is decided).
///
/// - Throws: the damage met; the unfinished line at that point is dropped (``LineFramer/reset()``).
@inlinable
package func readChunk<C: LineConsumer>(
    from source: inout InputSource, into buffer: UnsafeMutableRawBufferPointer, framer: inout LineFramer,
    to consumer: inout C
) throws(IngestError) -> Bool {
    let count: Int
    do {
        count = try source.read(into: buffer)
    } catch {
        framer.reset()
        throw error
    }
    if count == 0 {
        framer.finish(to: &consumer)
        return false
    }
    framer.push(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), to: &consumer)
    return true
}
