#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether ``readLines(from:framer:into:chunkBytes:prefetch:)`` decodes the input on a second thread while
/// the calling thread frames and parses the previous chunk.
///
/// With ``thread``, a decoder thread fills ``chunkCount`` fixed buffers of `chunkBytes` each, in order, and
/// hands each one over through a small queue guarded by a mutex and two condition variables (one handover per
/// chunk, nothing per line). The lines, their order, the error and the counters are exactly those of ``off``.
public enum Prefetch: Hashable, Sendable {
    /// Read and decode on the calling thread.
    case off
    /// Decode on a second thread, at most ``chunkCount`` chunks ahead.
    case thread
    /// ``thread`` for compressed inputs when at least two cores are online (``onlineCores``), else ``off``.
    case automatic

    /// The number of chunk buffers the decoder thread cycles through: memory is `chunkCount × chunkBytes`.
    public static let chunkCount = 6

    /// Processors online (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
    public static var onlineCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// ``off`` or ``thread``: what this choice means for an input with `compression` on a machine with
    /// `cores` online cores. Plain inputs gain nothing from a second thread (reading is a `memcpy`).
    public func resolved(for compression: Compression, cores: Int = Prefetch.onlineCores) -> Prefetch {
        switch self {
        case .off, .thread: return self
        case .automatic: return compression != .none && cores >= 2 ? .thread : .off
        }
    }
}

/// The state shared by the decoder thread and the consumer: a ring of ``Prefetch/chunkCount`` chunk buffers
/// handed over through a ``HandoffGate`` (the consumer is woken for every chunk; the decoder, when it waits
/// for a free chunk, once half the ring is free).
final class ChunkRing: @unchecked Sendable {
    // @unchecked Sendable: `chunks` is accessed under the gate's lock; a buffer's bytes belong to one side at a
    // time, as the gate hands its slot over.

    struct Chunk {
        var count = 0
        /// The read error met after this chunk's bytes, if any (the last chunk).
        var error: IngestError?
        /// The input ended after this chunk's bytes (the last chunk).
        var isEnd = false
    }

    let chunkBytes: Int
    let buffers: [UnsafeMutableRawBufferPointer]
    var chunks: [Chunk]
    let gate: HandoffGate
    /// The source the producer reads; valid until the producer is joined (see ``readLinesPrefetching``).
    let source: UnsafeMutablePointer<InputSource>

    init(source: UnsafeMutablePointer<InputSource>, chunkBytes: Int, chunkCount: Int) {
        self.source = source
        self.chunkBytes = chunkBytes
        buffers = (0..<chunkCount).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        }
        chunks = Array(repeating: Chunk(), count: chunkCount)
        gate = HandoffGate(capacity: chunkCount)
    }

    deinit {
        for b in buffers { b.deallocate() }
    }

    /// The producer: decodes into free chunks until the input ends, fails, or the consumer cancels.
    func produce() {
        while let index = gate.reserve() {
            let buffer = buffers[index]
            var chunk = Chunk()
            // Fill the whole chunk (a zstd read may return less), so handovers stay few.
            while chunk.count < chunkBytes {
                do {
                    let got = try source.pointee.read(
                        into: UnsafeMutableRawBufferPointer(rebasing: buffer[chunk.count...]))
                    if got == 0 {
                        chunk.isEnd = true
                        break
                    }
                    chunk.count += got
                } catch {
                    chunk.error = error
                    break
                }
            }
            // A waiting consumer has nothing else to do: wake it for every chunk.
            gate.publish(urgent: true) { chunks[index] = chunk }
            if chunk.isEnd || chunk.error != nil { return }
        }
    }

    /// The next chunk in order, waiting for the producer; its buffer stays valid until ``release()``.
    func next() -> (bytes: UnsafeRawBufferPointer, chunk: Chunk) {
        // Never nil: the gate is not closed, and the producer's last chunk (end or error) is the consumer's last.
        guard let (index, chunk) = gate.next({ ($0, chunks[$0]) }) else {
            return (UnsafeRawBufferPointer(start: nil, count: 0), Chunk(isEnd: true))
        }
        return (UnsafeRawBufferPointer(rebasing: buffers[index][0..<chunk.count]), chunk)
    }

    /// Gives the chunk returned by the last ``next()`` back to the producer.
    func release() { gate.release() }

    /// Tells the producer to stop at its next chunk boundary.
    func cancel() { gate.cancel() }
}

/// The decoder thread's entry point: `context` is a retained ``ChunkRing``.
private func prefetchThreadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    let ring = Unmanaged<ChunkRing>.fromOpaque(context).takeRetainedValue()
    ring.produce()
    return nil
}

/// ``readLines(from:framer:into:chunkBytes:prefetch:)`` with ``Prefetch/thread``: `source` is decoded on a
/// second thread that is always joined before this function returns or throws.
///
/// Falls back to reading on the calling thread when the thread cannot be created.
func readLinesPrefetching<C: LineConsumer>(
    from source: inout InputSource,
    framer: inout LineFramer,
    into consumer: inout C,
    chunkBytes: Int
) throws(IngestError) {
    let failure: IngestError? = withUnsafeMutablePointer(to: &source) { pointer -> IngestError? in
        // Safe: the producer thread uses `pointer` only until it is joined below, on every path, before this
        // closure returns; the caller's `source` is not touched meanwhile.
        let ring = ChunkRing(source: pointer, chunkBytes: max(chunkBytes, 1), chunkCount: Prefetch.chunkCount)
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let context = Unmanaged.passRetained(ring).toOpaque()
        guard pthread_create(&thread, nil, prefetchThreadMain, context) == 0 else {
            Unmanaged<ChunkRing>.fromOpaque(context).release()
            do throws(IngestError) {
                try readLinesInline(from: &pointer.pointee, framer: &framer, into: &consumer, chunkBytes: chunkBytes)
                return nil
            } catch {
                return error
            }
        }
        defer {
            ring.cancel()
            #if canImport(Darwin)
            if let thread { pthread_join(thread, nil) }
            #else
            pthread_join(thread, nil)
            #endif
        }
        while true {
            let (bytes, chunk) = ring.next()
            if !bytes.isEmpty { framer.push(bytes, to: &consumer) }
            if let error = chunk.error {
                framer.reset()
                return error
            }
            if chunk.isEnd {
                framer.finish(to: &consumer)
                return nil
            }
            ring.release()
        }
    }
    if let failure { throw failure }
}
