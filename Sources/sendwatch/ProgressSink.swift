import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchPipeline

#if canImport(Glibc)
import Glibc
#endif

/// Forwards events to another sink and, when standard error is a terminal, keeps one progress line there:
/// events so far, the log time reached, and events per second. Cron jobs and pipes get no progress line.
struct ProgressSink<Inner: EventSink>: EventSink {
    static var eventOutput: EventOutput { Inner.eventOutput }
    static var preferredBatchCount: Int { Inner.preferredBatchCount }
    var inner: Inner
    private let enabled: Bool
    private var events = 0
    private var nextCheck = 1 << 16
    private var started = Date()
    private var lastPrint = Date()
    private var printed = false

    init(_ inner: consuming Inner) {
        self.inner = inner
        self.enabled = isatty(2) == 1
    }

    mutating func accept(_ batch: inout EventBatch) {
        // Read before the inner sink runs: it may take the array.
        let count = batch.count
        let last = batch.last?.time
        inner.accept(&batch)
        guard enabled else { return }
        events += count
        // The wall clock is read once per 65,536 events, never per event.
        guard events >= nextCheck, let last else { return }
        nextCheck = events + (1 << 16)
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= 1 else { return }
        lastPrint = now
        printed = true
        let rate = Double(events) / max(0.001, now.timeIntervalSince(started))
        let text = String(
            format: "\rsendwatch: %.1f M events, log time %@, %.0f k events/s ", Double(events) / 1e6,
            last.description, rate / 1000)
        FileHandle.standardError.write(Data(text.utf8))
    }

    mutating func flush() {
        inner.flush()
        if printed {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            printed = false
        }
    }
}
