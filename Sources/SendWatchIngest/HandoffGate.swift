#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The counters and waits of a ring of ``capacity`` slots that one producer thread fills and one consumer thread
/// empties, in order: the decoder thread's chunks (``Prefetch``) and `replay`'s event batches
/// (`ThreadedSink`). The gate only says which slot each side may use; the slots themselves live with the caller.
///
/// Producer: ``reserve()`` waits for a free slot and returns its index; the producer fills it, then
/// ``publish(urgent:_:)``. Consumer: ``next(_:)`` waits for a published slot and hands over its index; the
/// consumer reads it, then ``release()``. A slot between `reserve` and `publish` belongs to the producer alone, one between
/// `next` and `release` to the consumer alone, and the gate's mutex orders the hand-over, so slot memory of its own
/// (raw buffers) needs no lock. A Swift array of slots, and other state the two threads share, is changed in
/// `publish`'s and read in `next`'s closure (under the same lock, no extra lock operation), or under
/// ``withLock(_:)``: a copy-on-write buffer must not be touched by both threads at once.
///
/// Wake-ups: a thread that waits is woken only once half the ring is ready for it (or at once for an `urgent`
/// item, a ``close()`` or a ``cancel()``), so that one wake-up, which costs microseconds of kernel time on a busy
/// machine, serves several slots.
package final class HandoffGate: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is accessed under `mutex`.

    /// Slots in the ring.
    package let capacity: Int
    private var produced = 0
    private var consumed = 0
    /// The producer has no more items: ``next()`` returns nil once the ring is empty.
    private var closed = false
    /// The consumer wants no more items: ``reserve()`` returns nil.
    private var cancelled = false
    private var producerWaiting = false
    private var consumerWaiting = false
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t>
    private let notFull: UnsafeMutablePointer<pthread_cond_t>

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
        mutex = .allocate(capacity: 1)
        notEmpty = .allocate(capacity: 1)
        notFull = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
    }

    /// Producer: waits for a free slot; its index, or nil once the consumer has cancelled.
    package func reserve() -> Int? {
        withLock {
            while produced - consumed == capacity && !cancelled {
                producerWaiting = true
                pthread_cond_wait(notFull, mutex)
            }
            producerWaiting = false
            return cancelled ? nil : produced % capacity
        }
    }

    /// Producer: the reserved slot is filled. `update` runs under the lock first (for state shared beside the
    /// slots). An `urgent` item wakes a waiting consumer at once; otherwise it is woken once half the ring is full.
    package func publish(urgent: Bool, _ update: () -> Void = {}) {
        withLock {
            update()
            produced += 1
            if consumerWaiting && (urgent || produced - consumed >= max(1, capacity / 2)) {
                pthread_cond_signal(notEmpty)
            }
        }
    }

    /// Producer: no more items.
    package func close() {
        withLock {
            closed = true
            pthread_cond_signal(notEmpty)
        }
    }

    /// Consumer: waits for a published slot and returns what `read` makes of its index (run under the lock), or
    /// nil once the producer has closed and every slot is taken.
    package func next<T>(_ read: (Int) -> T) -> T? {
        withLock {
            while consumed == produced && !closed {
                consumerWaiting = true
                pthread_cond_wait(notEmpty, mutex)
            }
            consumerWaiting = false
            return consumed == produced ? nil : read(consumed % capacity)
        }
    }

    /// Consumer: done with the slot ``next(_:)`` handed over. A waiting producer is woken once half the ring is free.
    package func release() {
        withLock {
            consumed += 1
            if producerWaiting && produced - consumed <= capacity / 2 { pthread_cond_signal(notFull) }
        }
    }

    /// Consumer: the producer stops at its next ``reserve()``.
    package func cancel() {
        withLock {
            cancelled = true
            pthread_cond_signal(notFull)
        }
    }

    /// Runs `body` under the gate's mutex.
    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
