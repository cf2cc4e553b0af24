public import SendWatchCore
public import SendWatchFormats
import SendWatchIngest
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs another sink on a thread of its own, so that parsing (the caller's thread) and what the sink does with
/// the events (detection in `sendwatch replay`) overlap; with a compressed input the decoder thread makes three
/// stages.
///
/// Batches of ``preferredBatchCount`` events are handed over whole (the array moves, no event is copied)
/// through a queue of at most ``depth`` batches (a `HandoffGate`): a few lock operations per batch, nothing per
/// event. A side that waits is woken only once half the queue is ready for it (or at a flush or the end), so
/// each wake-up serves several batches.
/// The inner sink sees the same batches in the same order and the same ``flush()`` calls as it would on the
/// caller's thread, so its output is identical.
///
/// A batch the inner sink is done with goes back to the caller's thread, which destroys its events there and
/// reuses the array. The events' strings were allocated on that thread; freeing them on the sink's thread
/// leaves the caller's allocator cache empty, so every allocation there takes glibc's slow path (measured: 7 %
/// slower when the machine is busy, 7 % faster when it is quiet; the steadier choice was kept).
///
/// Call ``finish()`` once, at the end, to wait for the inner sink to take everything and get it back. Without a
/// second thread (creation failed) the inner sink runs on the caller's thread.
///
/// The inner sink is handed over `sending` and held in a `Mutex`, which the sink's thread holds for its whole
/// run, and the queue's slots are in a `Mutex` too: the compiler checks that the two threads share nothing
/// unprotected (no `@unchecked Sendable`). The ``HandoffGate`` orders the hand-over of each slot and does
/// the waiting.
///
/// Memory: at most ``depth`` + 2 batches of events exist, in flight or emptied for reuse.
public struct ThreadedSink<Inner: EventSink>: EventSink {
    public static var eventOutput: EventOutput { Inner.eventOutput }
    /// 512 events: small enough that a batch's array (about 100 KB) stays below glibc's `mmap` threshold.
    public static var preferredBatchCount: Int { 512 }
    /// Batches queued for the inner sink at most; the caller waits when the queue is full.
    public static var depth: Int { 8 }

    private let pipe: BatchPipe<Inner>
    private var started: Bool
    /// Emptied arrays ready to be filled.
    private var spare: [EventBatch] = []
    #if canImport(Darwin)
    private var thread: pthread_t?
    #else
    private var thread = pthread_t()
    #endif

    /// Starts the thread that feeds `inner`.
    public init(_ inner: consuming sending Inner) {
        pipe = BatchPipe(inner: inner, depth: Self.depth)
        // A C entry point cannot capture: the thread's work travels as a retained context pointer, taken back
        // (and released) by the thread, or just below when there is no thread. Once per run.
        // Seen through a non-generic protocol, so that the closure captures no metatype of `Inner`.
        let pipe: any DrainingPipe = self.pipe
        let context = Unmanaged.passRetained(ThreadBody { pipe.drain() }).toOpaque()
        if pthread_create(&thread, nil, threadedSinkMain, context) == 0 {
            started = true
        } else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            started = false
        }
    }

    public mutating func accept(_ batch: inout EventBatch) {
        guard started else {
            pipe.inner.withLock { $0?.accept(&batch) }
            return
        }
        // Swapped, never copied: the array must be uniquely referenced when the inner sink reads it in place.
        var item = BatchPipe<Inner>.Item()
        swap(&item.batch, &batch)
        var returned = pipe.push(&item)
        // Destroy the events of the batches the inner sink is done with here, on the thread that made them, and
        // keep the arrays for the next batches (at most depth + 2 arrays ever exist: no allocation churn).
        for i in returned.indices {
            returned[i].removeAll(keepingCapacity: true)
            spare.append(EventBatch())
            swap(&spare[spare.count - 1], &returned[i])
        }
        if let last = spare.indices.last {
            swap(&batch, &spare[last])
            spare.removeLast()
        } else {
            batch.reserveCapacity(Self.preferredBatchCount)
        }
    }

    public mutating func flush() {
        if started {
            var item = BatchPipe<Inner>.Item(isFlush: true)
            _ = pipe.push(&item)
        } else {
            pipe.inner.withLock { $0?.flush() }
        }
    }

    /// Waits until the inner sink has taken every batch and flush, stops the thread, and returns the inner sink.
    /// Call once; the sink takes no events afterwards.
    public mutating func finish() -> sending Inner {
        if started {
            pipe.close()
            #if canImport(Darwin)
            if let thread { pthread_join(thread, nil) }
            #else
            pthread_join(thread, nil)
            #endif
            started = false
            _ = pipe.takeReturned()
        }
        // Safe to force unwrap: the inner sink is in the mutex from `init` until this call takes it, once; the
        // sink's thread, which held the mutex while it ran, was joined above (or never existed).
        return pipe.inner.withLock { $0.take() }!
    }
}

/// The thread's work, boxed so that the thread's C entry point (which cannot capture) gets it as one context
/// pointer: `Sendable`, so the compiler checks what the thread is given.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// What the sink's thread runs: a ``BatchPipe``'s ``BatchPipe/drain()``, whatever its inner sink.
protocol DrainingPipe: Sendable {
    /// Feeds the inner sink until the caller's thread ends the queue.
    func drain()
}

extension BatchPipe: DrainingPipe {}

/// The thread's entry point: `context` is a retained ``ThreadBody``.
private func threadedSinkMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().run()
    return nil
}

/// The queue between the caller's thread and the sink's thread (a ring of ``depth`` items handed over through a
/// ``HandoffGate``), and the inner sink itself.
///
/// Checked `Sendable`: the inner sink and the ring's slots are in `Mutex`es. The gate says which slot each side
/// may use and when; the slot mutex is taken inside the gate's lock (never contended) or, for the finished
/// batches, once per batch: a few uncontended lock operations per batch of 512 events, none per event.
final class BatchPipe<Inner: EventSink>: Sendable {
    /// One queued item: a batch, or (``isFlush``) a ``EventSink/flush()`` call. A struct taken out with
    /// `swap`, so the batch's array moves and stays uniquely referenced (the inner sink then reads it in place).
    struct Item {
        var batch: EventBatch = []
        var isFlush = false
    }

    /// What the two threads exchange besides the sink.
    struct Ring {
        /// The items, by slot index.
        var slots: [Item]
        /// Batches the sink is done with, for the caller to empty and reuse.
        var returned: [EventBatch] = []
    }

    /// The inner sink: locked by the sink's thread for its whole run; nil once ``ThreadedSink/finish()`` took it.
    let inner: Mutex<Inner?>
    private let ring: Mutex<Ring>
    private let gate: HandoffGate

    init(inner: consuming sending Inner, depth: Int) {
        self.inner = Mutex(.some(inner))
        gate = HandoffGate(capacity: depth)
        ring = Mutex(Ring(slots: Array(repeating: Item(), count: gate.capacity)))
    }

    /// Queues `item`, waiting while the queue is full; returns the arrays of the batches the sink has finished
    /// since the last call (with their events, for the caller to destroy). A flush wakes the sink at once.
    func push(_ item: inout Item) -> [EventBatch] {
        // Never nil: this gate is never cancelled.
        guard let index = gate.reserve() else { return [] }
        let isFlush = item.isFlush
        var done: [EventBatch] = []
        gate.publish(urgent: isFlush) {
            ring.withLock { ring in
                swap(&ring.slots[index], &item)
                swap(&done, &ring.returned)
            }
        }
        return done
    }

    /// The finished batches not yet handed back.
    func takeReturned() -> [EventBatch] {
        var done: [EventBatch] = []
        ring.withLock { swap(&done, &$0.returned) }
        return done
    }

    /// Tells the sink's thread to stop once the queue is empty.
    func close() { gate.close() }

    /// The sink's thread: takes items in order until the queue is closed and empty.
    ///
    /// Holds the inner sink's mutex for its whole run (the caller's thread touches the sink only when there is
    /// no such thread, or after joining it), so the sink is used in place, with no lock per batch.
    func drain() {
        inner.withLock { sink in
            while var item = gate.next({ index -> Item in
                var taken = Item()
                ring.withLock { swap(&taken, &$0.slots[index]) }
                return taken
            }) {
                gate.release()
                // Safe to force unwrap: the sink is in the mutex from `init` until `finish()` takes it, after
                // this thread has ended.
                if item.isFlush {
                    sink!.flush()
                } else {
                    sink!.accept(&item.batch)
                    ring.withLock {
                        $0.returned.append(EventBatch())
                        swap(&$0.returned[$0.returned.count - 1], &item.batch)
                    }
                }
            }
        }
    }
}
