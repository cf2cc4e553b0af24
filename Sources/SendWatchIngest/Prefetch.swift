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

/// The state shared by the decoder thread and the consumer: a ring of ``Prefetch/chunkCount`` chunk buffers.
///
/// The producer fills chunk `produced % n` while `produced - consumed < n`; the consumer reads chunk
/// `consumed % n` while `consumed < produced`. Counters and chunk descriptions change only under `mutex`;
/// a producer waiting for a free chunk is woken only once half the ring is free, so that it decodes several
/// chunks per wake-up instead of one (each wake-up of a sleeping thread costs microseconds of kernel time);
/// a buffer's bytes are written by the producer before it publishes the chunk and read by the consumer
/// before it releases it, so the mutex orders every access.
final class ChunkRing: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is accessed under `mutex` (see the type's comment); the
    // buffers are handed over by those counters.

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
    var produced = 0
    var consumed = 0
    var cancelled = false
    /// Whether the producer waits for a free chunk (the consumer then wakes it once half the ring is free).
    var producerWaiting = false
    /// Whether the consumer waits for a chunk.
    var consumerWaiting = false
    /// The source the producer reads; valid until the producer is joined (see ``readLinesPrefetching``).
    let source: UnsafeMutablePointer<InputSource>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let filled: UnsafeMutablePointer<pthread_cond_t>
    private let emptied: UnsafeMutablePointer<pthread_cond_t>

    init(source: UnsafeMutablePointer<InputSource>, chunkBytes: Int, chunkCount: Int) {
        self.source = source
        self.chunkBytes = chunkBytes
        buffers = (0..<chunkCount).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
        }
        chunks = Array(repeating: Chunk(), count: chunkCount)
        mutex = .allocate(capacity: 1)
        filled = .allocate(capacity: 1)
        emptied = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(filled, nil)
        pthread_cond_init(emptied, nil)
    }

    deinit {
        for b in buffers { b.deallocate() }
        pthread_cond_destroy(emptied)
        pthread_cond_destroy(filled)
        pthread_mutex_destroy(mutex)
        emptied.deallocate()
        filled.deallocate()
        mutex.deallocate()
    }

    /// The producer: decodes into free chunks until the input ends, fails, or the consumer cancels.
    func produce() {
        let n = buffers.count
        while true {
            pthread_mutex_lock(mutex)
            while produced - consumed == n && !cancelled {
                producerWaiting = true
                pthread_cond_wait(emptied, mutex)
            }
            producerWaiting = false
            let stop = cancelled
            let index = produced % n
            pthread_mutex_unlock(mutex)
            if stop { return }

            let buffer = buffers[index]
            var chunk = Chunk()
            // Fill the whole chunk (a zstd read may return less), so handovers stay few.
            while chunk.count < chunkBytes {
                do {
                    let got = try source.pointee.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[chunk.count...]))
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
            let last = chunk.isEnd || chunk.error != nil
            pthread_mutex_lock(mutex)
            chunks[index] = chunk
            produced += 1
            if consumerWaiting { pthread_cond_signal(filled) }
            pthread_mutex_unlock(mutex)
            if last { return }
        }
    }

    /// The next chunk in order, waiting for the producer; its buffer stays valid until ``release()``.
    func next() -> (bytes: UnsafeRawBufferPointer, chunk: Chunk) {
        pthread_mutex_lock(mutex)
        while consumed == produced {
            consumerWaiting = true
            pthread_cond_wait(filled, mutex)
        }
        consumerWaiting = false
        let index = consumed % buffers.count
        let chunk = chunks[index]
        pthread_mutex_unlock(mutex)
        return (UnsafeRawBufferPointer(rebasing: buffers[index][0..<chunk.count]), chunk)
    }

    /// Gives the chunk returned by the last ``next()`` back to the producer.
    func release() {
        pthread_mutex_lock(mutex)
        consumed += 1
        if producerWaiting && produced - consumed <= buffers.count / 2 { pthread_cond_signal(emptied) }
        pthread_mutex_unlock(mutex)
    }

    /// Tells the producer to stop at its next chunk boundary.
    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_signal(emptied)
        pthread_mutex_unlock(mutex)
    }
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
