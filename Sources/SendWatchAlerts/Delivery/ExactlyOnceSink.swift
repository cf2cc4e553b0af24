import SendWatchCore
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wraps any ``AlertSink`` so that each record is delivered exactly once across crashes and restarts, given a
/// run that checkpoints its state and, after a crash, produces the same records again from the last checkpoint
/// (`tail` is deterministic).
///
/// How: the run checkpoints only after the records it covers were delivered, and records ``position`` in the
/// checkpoint. The records delivered since are recognised and skipped when they come again:
/// - by a journal in the state directory (`alerts.journal`: a 64-bit hash per record delivered since the last
///   checkpoint, appended after each ``flush()``), for every sink;
/// - for a sink that can be read back (a file), also by reading its output after the checkpointed position,
///   which also cuts off a half record a crash left at its end.
/// A duplicate is then possible only for a sink that cannot be read back, for a batch delivered in the instant
/// between the delivery and the journal append.
///
/// The run drives the journal around its checkpoints: ``sync()`` before taking one, ``rotateJournal(sequence:)``
/// when it is taken, ``dropJournal(_:)`` once it is on disk, ``dropStaleJournals()`` after the first one.
///
/// Durability (``SyncPolicy``): `checkpoint` (default) syncs the inner sink before every checkpoint, so a
/// checkpoint never claims records the disk does not hold; `batch` syncs after every batch; `never` leaves it
/// to the kernel (a power loss can then lose records the checkpoint already covers).
///
/// Bounds: the journal holds at most the records since the last checkpoint; a run should checkpoint early
/// when ``journalEntries`` passes its bound (`tail`: `TailOptions.maxJournalEntries`, by default
/// ``maxJournalEntries``). Records skipped after a restart are remembered by hash until they come again.
///
/// Usage:
/// ```swift
/// let delivery = ExactlyOnceSink(wrapping: output, stateDirectory: "/var/lib/sendwatch", sync: .checkpoint)
/// try delivery.resume(after: positionFromCheckpoint)
/// var alerts = AlertWriter(encoder: SendWatchV1Encoder(), sink: delivery)
/// ```
public final class ExactlyOnceSink: AlertSink {
    /// When the inner sink is synced (a file: fsynced).
    public enum SyncPolicy: String, Sendable, CaseIterable {
        /// Before every checkpoint (the default).
        case checkpoint
        /// After every batch, and before every checkpoint.
        case batch
        /// Never: left to the kernel.
        case never
    }

    /// Records the journal may hold before a checkpoint is due: the default of `TailOptions.maxJournalEntries`.
    public static let maxJournalEntries = 100_000

    /// The sink records are delivered to.
    public let inner: any AlertSink
    /// The inner sink's name.
    public var name: String { inner.name }
    private let journalPath: String?
    private var journalFD: Int32 = -1
    private let policy: SyncPolicy
    /// Records (by hash) already delivered before a crash, to skip once each when they come again.
    private var skip: [UInt64: Int] = [:]
    /// Records journalled since the last checkpoint.
    public private(set) var journalEntries = 0
    /// Records delivered.
    public private(set) var linesWritten = 0
    /// Records skipped as already delivered before a restart.
    public private(set) var linesSkipped = 0
    /// Hashes of the records handed to the inner sink and not yet flushed.
    private var pendingHashes: [UInt64] = []
    /// The records of a batch that are not skipped (used only while there are records to skip).
    private var kept: [UInt8] = []
    /// Moved journals found at the start (left by a crash); any checkpoint of this run covers them.
    private var staleJournals: [String] = []

    /// Wraps `inner`.
    ///
    /// - Parameter stateDirectory: where the journal lives; nil runs without one (no state, no exactly-once).
    public init(wrapping inner: any AlertSink, stateDirectory: String?, sync: SyncPolicy) {
        self.inner = inner
        self.policy = sync
        journalPath = stateDirectory.map { $0 + "/alerts.journal" }
    }

    deinit {
        if journalFD >= 0 { _ = close(journalFD) }
    }

    /// Prepares to resume after the checkpoint that recorded position `checkpointPosition`: collects the records
    /// delivered after it (from the journals, and from the inner sink's output when it can be read back) to
    /// skip them when they are produced again.
    ///
    /// - Throws: ``OutputError`` when the inner sink cannot cut off a partial record.
    public func resume(after checkpointPosition: Int64?) throws(OutputError) {
        for journal in journalFiles() {
            if journal != journalPath { staleJournals.append(journal) }
            guard let bytes = readFile(journal) else { continue }
            var i = 0
            while i + 8 <= bytes.count {
                var h: UInt64 = 0
                for j in 0..<8 { h |= UInt64(bytes[i + j]) << (8 * j) }
                skip[h, default: 0] += 1
                i += 8
            }
        }
        // Without output to read back (or when it shrank: rotated or truncated by someone else), only the
        // journal can tell.
        guard let start = checkpointPosition, let written = try inner.recordsWritten(after: start) else { return }
        var fileSkip: [UInt64: Int] = [:]
        written.withUnsafeBytes { raw in
            forEachRecord(in: raw) { fileSkip[Self.hash($0), default: 0] += 1 }
        }
        for (h, n) in fileSkip where n > skip[h, default: 0] { skip[h] = n }
    }

    /// Hands the records of `records` that were not delivered before a restart to the inner sink.
    ///
    /// - Throws: ``OutputError`` from the inner sink; the records are kept and ``flush()`` retries them.
    public func write(_ records: UnsafeRawBufferPointer) throws(OutputError) {
        if skip.isEmpty {
            forEachRecord(in: records) { pendingHashes.append(Self.hash($0)) }
            try inner.write(records)
            return
        }
        kept.removeAll(keepingCapacity: true)
        forEachRecord(in: records) { record in
            let h = Self.hash(record)
            if let n = skip[h] {
                if n <= 1 { skip[h] = nil } else { skip[h] = n - 1 }
                linesSkipped += 1
            } else {
                kept.append(contentsOf: record)
                pendingHashes.append(h)
            }
        }
        guard !kept.isEmpty else { return }
        let result = kept.withUnsafeBytes { raw in Result { () throws(OutputError) in try inner.write(raw) } }
        try result.get()
    }

    /// Delivers what the inner sink holds, then journals it.
    ///
    /// - Throws: ``OutputError``; nothing is journalled, and the next call retries.
    public func flush() throws(OutputError) {
        try inner.flush()
        guard !pendingHashes.isEmpty else { return }
        linesWritten += pendingHashes.count
        // A failed sync here is not an error of the batch (it was written); the sync before the next
        // checkpoint reports it.
        if policy == .batch { try? inner.sync() }
        journal(pendingHashes)
        pendingHashes.removeAll(keepingCapacity: true)
    }

    /// Makes the delivered records durable before a checkpoint (policy `checkpoint` or `batch`).
    public func sync() throws(OutputError) {
        guard policy != .never else { return }
        try inner.sync()
    }

    /// The inner sink's position.
    public var position: Int64? { inner.position }

    /// Reopens the inner sink (see ``AlertSink/reopen()``). The run checkpoints before and after, so that no
    /// checkpoint's output position refers to the other file.
    public func reopen() throws(OutputError) { try inner.reopen() }

    /// Moves the journal aside for the checkpoint being taken (as `alerts.journal.<sequence>`) and starts a new
    /// one for the records delivered after it; returns the moved file's path, to ``dropJournal(_:)`` once that
    /// checkpoint is on disk. Until then a restart reads both.
    public func rotateJournal(sequence: Int) -> String? {
        guard let journalPath else { return nil }
        if journalFD >= 0 {
            _ = close(journalFD)
            journalFD = -1
        }
        journalEntries = 0
        let moved = journalPath + ".\(sequence)"
        let renamed = rename(journalPath, moved) == 0
        // Records delivered before a crash that this run has not produced again yet are still to be skipped
        // after the new checkpoint: they start the new journal.
        if !skip.isEmpty {
            var pending: [UInt64] = []
            for (h, n) in skip.sorted(by: { $0.key < $1.key }) {
                for _ in 0..<n { pending.append(h) }
            }
            journal(pending)
        }
        return renamed ? moved : nil
    }

    /// Removes a journal whose records a checkpoint on disk covers.
    public func dropJournal(_ path: String) {
        _ = unlink(path)
    }

    /// Removes the journals a crash left, once this run has a checkpoint on disk.
    public func dropStaleJournals() {
        for path in staleJournals { _ = unlink(path) }
        staleJournals.removeAll()
    }

    /// The journal and any moved journals whose checkpoint may not have reached the disk.
    private func journalFiles() -> [String] {
        guard let journalPath else { return [] }
        var out = [journalPath]
        let slash = journalPath.lastIndex(of: "/").map { journalPath.index(after: $0) } ?? journalPath.startIndex
        let directory = slash == journalPath.startIndex ? "." : String(journalPath[..<journalPath.index(before: slash)])
        let base = String(journalPath[slash...]) + "."
        if let dir = opendir(directory) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    // Safe to force unwrap: d_name is a NUL-terminated C string inside the dirent.
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name.hasPrefix(base), name.dropFirst(base.count).allSatisfy(\.isNumber) {
                    out.append(directory + "/" + name)
                }
            }
            closedir(dir)
        }
        return out
    }

    private func journal(_ hashes: [UInt64]) {
        guard let journalPath, !hashes.isEmpty else { return }
        if journalFD < 0 {
            journalFD = open(journalPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard journalFD >= 0 else { return }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hashes.count * 8)
        for h in hashes { withUnsafeBytes(of: h.littleEndian) { bytes.append(contentsOf: $0) } }
        // A journal entry that cannot be written only weakens duplicate detection after a crash.
        _ = bytes.withUnsafeBytes { writeFully(journalFD, $0) }
        journalEntries += hashes.count
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = StableHash()
        h.combine(bytes: bytes)
        return h.value
    }
}

@available(*, unavailable)
extension ExactlyOnceSink: Sendable {}
