#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SendWatchCore
import SendWatchIngest

/// Where `sendwatch tail` writes alert lines, and how it keeps "each alert exactly once" across crashes.
///
/// Every batch of alert lines goes out in one `write(2)` (retrying short writes), so a reader of the output
/// never sees half a line unless the process dies inside that call; a half line left by a crash is cut off at
/// the next start (file output).
///
/// Exactly once: the checkpoint records the output's size and is written only after the alerts it covers are
/// written. After a crash, `tail` resumes from the last checkpoint and produces the same alert lines again (the
/// pipeline is deterministic); the lines already written since that checkpoint are recognised and skipped:
/// - with `--output FILE`, by reading the file from the checkpointed size to its end;
/// - in both cases, by a journal in the state directory (`alerts.journal`: a 64-bit hash per line written
///   since the last checkpoint, appended after each batch), which also covers standard output.
/// A duplicate is then possible only for standard output, for a batch written in the instant between the
/// write and the journal append.
///
/// Durability (``SyncPolicy``): `checkpoint` (default) fsyncs the output file before every checkpoint, so a
/// checkpoint never claims alerts the disk does not hold; `batch` fsyncs after every batch; `never` leaves it
/// to the kernel (a power loss can then lose alerts the checkpoint already covers).
///
/// Bounds: the pending batch is written before more input is read, so a slow reader of the output slows
/// `tail` down instead of growing a queue (backpressure); the journal holds at most the lines since the last
/// checkpoint, and `tail` checkpoints early when it passes `TailOptions.maxJournalEntries` (by default
/// ``maxJournalEntries``).
public final class AlertDelivery {
    /// When the output file is fsynced.
    public enum SyncPolicy: String, Sendable, CaseIterable {
        case checkpoint, batch, never
    }

    /// A write that failed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var message: String
        public var description: String { "alert output \(path): \(message)" }
    }

    /// Lines the journal may hold before a checkpoint is due: the default of `TailOptions.maxJournalEntries`.
    public static let maxJournalEntries = 100_000

    /// The output's name, for messages.
    public let name: String
    private let fd: Int32
    private let isFile: Bool
    private let journalPath: String?
    private var journalFD: Int32 = -1
    private let sync: SyncPolicy
    /// Bytes of the output file written so far (file output; 0 for standard output).
    public private(set) var position: Int64 = 0
    /// Lines (by hash) already written before a crash, to skip once each when they come again.
    private var skip: [UInt64: Int] = [:]
    /// Lines journalled since the last checkpoint.
    public private(set) var journalEntries = 0
    /// Alert lines written, and skipped as already written before a restart.
    public private(set) var linesWritten = 0
    public private(set) var linesSkipped = 0
    private var batch: [UInt8] = []
    private var batchHashes: [UInt64] = []

    /// Opens the output: standard output when `path` is nil, else `path` for appending (created 0644).
    ///
    /// - Parameter stateDirectory: where the journal lives; nil runs without one (no state, no exactly-once).
    public init(path: String?, stateDirectory: String?, sync: SyncPolicy) throws(Failure) {
        self.sync = sync
        if let path {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure(path: path, message: "cannot open for appending: \(errnoDescription(errno))") }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                _ = close(fd)
                throw Failure(path: path, message: "cannot stat: \(errnoDescription(errno))")
            }
            self.fd = fd
            isFile = (st.st_mode & S_IFMT) == S_IFREG
            position = isFile ? Int64(st.st_size) : 0
            name = path
        } else {
            fd = 1
            isFile = false
            name = "<stdout>"
        }
        journalPath = stateDirectory.map { $0 + "/alerts.journal" }
    }

    deinit {
        if fd != 1 { _ = close(fd) }
        if journalFD >= 0 { _ = close(journalFD) }
    }

    /// Prepares to resume after the checkpoint that recorded output size `checkpointPosition`: collects the lines
    /// written after it (from the output file and from the journal) to skip them when they are produced again,
    /// and cuts off a half line a crash left at the end of the output file.
    public func resume(after checkpointPosition: Int64?) throws(Failure) {
        for journal in journalFiles() {
            if journal != journalPath { staleJournals.append(journal) }
            guard let bytes = Self.readAll(journal) else { continue }
            var i = 0
            while i + 8 <= bytes.count {
                var h: UInt64 = 0
                for j in 0..<8 { h |= UInt64(bytes[i + j]) << (8 * j) }
                skip[h, default: 0] += 1
                i += 8
            }
        }
        guard isFile, let start = checkpointPosition else { return }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) >= start, let bytes = Self.readAll(name, from: start) else {
            // The file shrank (rotated or truncated by someone else): only the journal can tell.
            return
        }
        var fileSkip: [UInt64: Int] = [:]
        var lineStart = 0
        var i = lineStart
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                let h = bytes.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[lineStart...i])) }
                fileSkip[h, default: 0] += 1
                lineStart = i + 1
            }
            i += 1
        }
        if lineStart < bytes.count {
            // A half line from a crash inside a write: nobody can use it; the whole line comes again.
            guard ftruncate(fd, off_t(start) + off_t(lineStart)) == 0 else {
                throw Failure(path: name, message: "cannot cut off the partial last line: \(errnoDescription(errno))")
            }
            position = start + Int64(lineStart)
        }
        for (h, n) in fileSkip where n > skip[h, default: 0] { skip[h] = n }
    }

    /// Adds one alert line (ending with a newline) to the batch, unless it was already written before a restart.
    public func add(line: UnsafeRawBufferPointer) {
        let h = Self.hash(line)
        if !skip.isEmpty, let n = skip[h] {
            if n <= 1 { skip[h] = nil } else { skip[h] = n - 1 }
            linesSkipped += 1
            return
        }
        batch.append(contentsOf: line)
        batchHashes.append(h)
    }

    /// Writes the batch in one write and journals it.
    ///
    /// - Throws: ``Failure`` when the output cannot be written; the batch is kept, and the next call retries it.
    public func flush() throws(Failure) {
        guard !batch.isEmpty else { return }
        let (offset, result) = batch.withUnsafeBytes { writeFully(fd, $0) }
        if let e = result {
            // Keep what was not written for the retry.
            batch.removeFirst(offset)
            if offset > 0 { position += Int64(offset) }
            throw Failure(path: name, message: "cannot write: \(errnoDescription(e))")
        }
        position += Int64(batch.count)
        linesWritten += batchHashes.count
        if sync == .batch, isFile { _ = fsync(fd) }
        journal(batchHashes)
        batch.removeAll(keepingCapacity: true)
        batchHashes.removeAll(keepingCapacity: true)
    }

    /// Makes the written alerts durable before a checkpoint (policy `checkpoint` or `batch`).
    public func syncForCheckpoint() throws(Failure) {
        guard isFile, sync != .never else { return }
        guard fsync(fd) == 0 else { throw Failure(path: name, message: "fsync failed: \(errnoDescription(errno))") }
    }

    /// Moves the journal aside for the checkpoint being taken (as `alerts.journal.<sequence>`) and starts a new
    /// one for the lines written after it; returns the moved file's path, to ``dropJournal(_:)`` once that
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
        // Lines written before a crash that this run has not produced again yet are still to be skipped after
        // the new checkpoint: they start the new journal.
        if !skip.isEmpty {
            var pending: [UInt64] = []
            for (h, n) in skip.sorted(by: { $0.key < $1.key }) {
                for _ in 0..<n { pending.append(h) }
            }
            journal(pending)
        }
        return renamed ? moved : nil
    }

    /// Removes a journal whose lines a checkpoint on disk covers.
    public func dropJournal(_ path: String) {
        _ = unlink(path)
    }

    /// Moved journals found at the start (left by a crash); any checkpoint of this run covers them.
    private var staleJournals: [String] = []

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
                    // Safe: d_name is a NUL-terminated C string inside the dirent.
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

    static func readAll(_ path: String, from offset: Int64 = 0) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { return nil }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

}
