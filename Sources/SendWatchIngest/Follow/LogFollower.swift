#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows log files by name, like `tail -F`, through rotation, and delivers their complete lines per stream.
///
/// Each pattern is a path (`/var/log/mail.log`) or a glob (`/var/log/exim4/*main*log`); every name it matches
/// is a *stream* with a small stable index (see ``streams``). The follower knows bytes, files and offsets, never
/// a log format.
///
/// Usage:
/// ```swift
/// let follower = try LogFollower(
///     patterns: ["/var/log/mail.log"], configuration: FollowConfiguration(), restoring: savedState)
/// var parser = MyLineConsumer()
/// while running {
///     let report = follower.poll(into: &parser)          // every available line, in file order per stream
///     checkpoint(follower.state)                          // after the lines were processed
///     if !report.moreAvailable { follower.wait(timeoutMilliseconds: 1000) }
/// }
/// ```
///
/// ## Rotation
/// - **rename + create** (logrotate's default): the old file stays open by descriptor, so it is read to its end
///   before the new file, even after it was compressed and deleted. The switch to the new file happens when the
///   new file has data, or when the old one has been quiet for ``FollowConfiguration/partialLineFlushMilliseconds``
///   (a writer that reopens late keeps writing to the old file until then). If the name was rotated more than
///   once between two polls, the rotated files newer than the old one are read too, in order.
/// - **copytruncate**: the same inode becomes shorter than the offset read, or its first bytes change. The copy
///   (`mail.log.1`, a rotated name whose first bytes match the file's fingerprint) holds what was not read yet:
///   it is read from the delivered offset to its end, then the truncated file from 0. Lines written between
///   logrotate's copy and its truncation are in neither file: that window is logrotate's and cannot be closed
///   by a reader. Without a matching copy, unread bytes are reported (``FollowDiagnostic/Code/truncatedDataLost``).
/// - **delete + recreate**: the deleted file is drained by descriptor, then the new file is read from 0.
/// - **a file that appears later** (or a new glob match) is read from 0.
/// - **a glob match that is gone** (deleted, or renamed with no file at the name yet) is closed after the quiet
///   period, as for a plain name; its stream is retired (``PollReport/streamsRetired``) only when its name has
///   had no file for a further quiet period. A file created there before (logrotate's rename, then create)
///   continues the same stream.
/// - **directory, FIFO, device** at a name: a diagnostic, and the name is skipped until a regular file is there.
///   A FIFO is never opened (it would block). Glob matches that are not regular files are skipped silently.
///
/// ## Restart
/// ``state`` holds per stream the identity (``FileIdentity``) of the file being read and the offset after its
/// last delivered line; while no file is open (the name missing between logrotate's rename and create, or
/// deleted) it holds the last file read, at its end, so a restart in that gap still reads a file that was then
/// written at the name and rotated away. On restore the file is looked for at the name, then among the rotated names
/// (`name.N`, `name-DATE`, each also `.gz`, `.zst`, `.xz`, `.bz2` or `.lz4`; compressed files are fingerprinted over their decompressed
/// bytes and resumed at the decompressed offset). It is read from the offset to its end, then any newer rotated
/// files, then the name's file from 0. So nothing is read twice and nothing is lost, within the limits below.
/// A saved file that is not found (rotated away and deleted) or that was empty when saved (no content to find it
/// by, and its inode may belong to another file by now) is replaced by every rotated file newer than its
/// ``FilePosition/predecessor``, each read from 0, then the name's file: a whole newer file is never skipped.
/// A file found by its inode alone (other first bytes) is not taken after a restart, as inodes are reused.
/// Every file opened at the name after a search of the rotated names (restore, a switch to the successor) is
/// checked against the last file read: rotated files newer than that one - the name's file of the search,
/// rotated by a logrotate run in between - are read before it.
///
/// ## Bounds (and what happens at each)
/// - Streams: at most ``FollowConfiguration/maxStreams``; further glob matches are counted per poll in
///   ``PollReport/streamsOverLimit`` and reported when the count changes.
/// - Open files: one per stream, plus during a predecessor's drain up to ``maxRotatedFilesPerStream`` + 1
///   rotated files (normally one), plus one inotify descriptor.
/// - Memory: one 256 KiB read buffer, and per stream a framer carrying at most
///   ``FollowConfiguration/maxLineBytes``; longer lines are skipped to their `\n` and counted.
/// - Work per poll: at most ``FollowConfiguration/maxBytesPerStreamPerPoll`` per stream
///   (``PollReport/moreAvailable``); one `stat`, one `fstat` and (when the file changed) one 4 KiB `pread` per
///   stream, one `glob` per glob pattern; a rotated-name directory scan (at most
///   32 names) only when a rotation or truncation is seen, or while a renamed file waits for its successor.
/// - Diagnostics: at most ``PollReport/maxDiagnostics`` per poll; each situation is reported once.
///
/// ## Known limits
/// - Lines written to a renamed file after the successor got data (and after the quiet period) are not read.
/// - copytruncate's copy-to-truncate window (above). A truncated file written again before the next poll is
///   recognised by its changed first bytes when its size or modification time changed (a same-size rewrite
///   within the file system's time granularity is not).
/// - A file that is still *empty* at the follower's last look has no content fingerprint: if it is then
///   written and copytruncated before the follower looks again (while running), the copy is not recognised and
///   its lines are lost. (After a restart such a file is found as newer than its predecessor, see "Restart".)
/// - A file closed after it was deleted (no file at the name) is the saved position at its end; a restart reports
///   it not found (``FollowDiagnostic/Code/savedFileNotFound``) although nothing of it was left unread.
/// - A saved file deleted by rotation before the restart: its unread lines are gone
///   (``FollowDiagnostic/Code/savedFileNotFound``). If its predecessor was deleted too, every remaining rotated
///   file is taken as newer (logrotate deletes the oldest first; a hand-made out-of-order deletion can make
///   older files be read again).
/// - A copytruncate that follows a plain truncation the follower has not seen yet: the copy is of content the
///   follower never fingerprinted.
/// - A file that appears and is rotated away before any poll sees it is not read (as with `tail -F`).
/// - More than ``maxRotatedFilesPerStream`` rotations between two looks: the oldest rotated files are skipped
///   (``FollowDiagnostic/Code/rotatedFilesSkipped``).
/// - Two different files with the same first 4 KiB are taken as one where only content can tell them apart
///   (see ``FileIdentity``).
/// - inotify sees no writes made on other hosts (NFS, CIFS): set ``FollowConfiguration/usePolling``. Only the
///   directories of the names are watched; a name behind a symbolic link to another directory is picked up by
///   the poll interval only when inotify sees nothing.
/// - Partial lines: an unfinished line is delivered after the quiet period; if its rest arrives later, the rest
///   is a line of its own.
///
/// Not `Sendable`: one task owns a follower (it owns descriptors and buffers).
public final class LogFollower {
    /// At most this many rotated files newer than the one being read are queued after it.
    public static let maxRotatedFilesPerStream = 8

    /// The validated configuration.
    public let configuration: FollowConfiguration
    /// The patterns as given.
    public let patterns: [String]

    private let clock: () -> Int64
    // Internal (not private) for the extensions in LogFollower+Streams/Restore/Reading.swift.
    var slots: [FollowStream?] = []
    var indexByName: [String: Int] = [:]
    var watcher: DirectoryWatcher?
    private var pendingDiagnostics: [FollowDiagnostic] = []
    /// Decisions made outside a poll (restoring positions at start-up), handed to the next poll's report.
    private var pendingDecisions: [FollowDiagnostic] = []
    var lastOverLimit = 0
    /// Glob matches already reported as a file followed under another name (``FollowDiagnostic/Code/sameFileTwice``),
    /// so that each is reported once; at most ``maxSameFileReported`` names (beyond that, no more are reported).
    var sameFileReported: Set<String> = []
    /// The bound of ``sameFileReported``.
    static let maxSameFileReported = 1024
    /// One reused read buffer for every stream (256 KiB).
    let buffer: UnsafeMutableRawBufferPointer
    /// Called between listing the rotated names and searching them (``searchRotatedNames(of:_:)``). Only
    /// tests set it, to rename files at that exact moment as a concurrent logrotate would.
    var afterRotatedNamesListed: (() -> Void)?

    /// Creates a follower, opens the files present now, and restores saved positions.
    ///
    /// Without `state`, each file present now starts at its end (``FollowConfiguration/startAtEnd``) or at 0.
    /// With `state`, each saved stream resumes at its position (see "Restart"), and names without a saved
    /// position - files that appeared while stopped - are read from 0. Saved names that no pattern matches any
    /// more are dropped with a diagnostic. Problems with single files are diagnostics in the first
    /// ``poll(into:)``'s report, not errors.
    ///
    /// - Parameters:
    ///   - patterns: paths and globs, at least one.
    ///   - configuration: limits and modes; validated here.
    ///   - state: positions saved from ``state``, or `nil` for a first start.
    ///   - clock: a monotonic clock in milliseconds, for the quiet period (tests inject one).
    /// - Throws: ``IngestError`` `.invalidConfiguration` for a bad configuration or no patterns.
    public init(
        patterns: [String],
        configuration: FollowConfiguration = FollowConfiguration(),
        restoring state: FollowerState? = nil,
        clock: @escaping () -> Int64 = LogFollower.monotonicMilliseconds
    ) throws(IngestError) {
        try configuration.validate()
        guard !patterns.isEmpty, !patterns.contains(where: \.isEmpty) else {
            throw IngestError(
                code: .invalidConfiguration, message: "give at least one path or glob, none empty",
                path: "follow patterns")
        }
        self.configuration = configuration
        self.patterns = patterns
        self.clock = clock
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        let now = clock()

        var saved: [String: FilePosition?] = [:]
        for stream in state?.streams ?? [] where saved[stream.name] == nil {
            saved[stream.name] = .some(stream.file)
        }
        // Names in pattern order: a glob's matches now plus saved names it matches (to finish their files).
        var names: [(name: String, fromGlob: Bool)] = []
        var seen: Set<String> = []
        for pattern in patterns {
            if !RotatedNames.isGlob(pattern) {
                if seen.insert(pattern).inserted { names.append((pattern, false)) }
                continue
            }
            let all = RotatedNames.expand(pattern)
            var matches = all.filter { !RotatedNames.looksRotated($0) && PathStatus.of($0).isRegular }
            matches += saved.keys.filter { RotatedNames.matches($0, pattern: pattern) }
            if matches.isEmpty { pendingDiagnostics.append(Self.nothingMatches(pattern)) }
            if state == nil && !configuration.startAtEnd,
                let skipped = Self.rotatedMatchesNotRead(
                    pattern, all.filter(RotatedNames.looksRotated), advice: configuration.rotatedFilesAdvice)
            {
                pendingDiagnostics.append(skipped)
            }
            for match in Set(matches).sorted() where seen.insert(match).inserted {
                names.append((match, true))
            }
        }
        // A file named twice (`./a.log` and `a.log`, a link and its target, a name and a glob matching it by
        // another spelling) is followed once, under the name that came first: two streams would read each
        // line twice.
        var firstName: [InputOrder.FileKey: String] = [:]
        names = names.filter { entry in
            guard let key = InputOrder.fileKey(entry.name) else { return true }
            if let earlier = firstName[key] {
                pendingDiagnostics.append(Self.sameFile(entry.name, as: earlier))
                return false
            }
            firstName[key] = entry.name
            return true
        }
        for name in saved.keys.sorted() where !seen.contains(name) {
            pendingDiagnostics.append(
                FollowDiagnostic(
                    code: .savedStreamDropped, stream: nil, path: name,
                    message: "no pattern matches this saved stream any more; its position is dropped"))
        }
        var overLimit = 0
        for (name, fromGlob) in names {
            guard slots.count < configuration.maxStreams else {
                overLimit += 1
                continue
            }
            let stream = addStream(name: name, fromGlob: fromGlob, now: now)
            var report = PollReport()
            if let entry = saved[name] {
                if let position = entry { restore(stream, from: position, report: &report) }
            } else if state == nil && configuration.startAtEnd {
                stream.nextStart = .endAtLineBoundary(maxLineBytes: configuration.maxLineBytes)
            }
            if stream.live == nil { _ = openName(stream, now: now, report: &report) }
            pendingDiagnostics += report.diagnostics
            pendingDecisions += report.decisions
        }
        if overLimit > 0 {
            lastOverLimit = overLimit
            pendingDiagnostics.append(overLimitDiagnostic(overLimit))
        }
        if !configuration.usePolling {
            watcher = DirectoryWatcher()
            if watcher == nil {
                pendingDiagnostics.append(
                    FollowDiagnostic(
                        code: .watchUnavailable, stream: nil, path: patterns[0],
                        message: "inotify is not available; polling every "
                            + "\(configuration.pollIntervalMilliseconds) ms"))
            }
            updateWatches()
        }
    }

    deinit {
        buffer.deallocate()
    }

    /// The warning for a glob that matches no file at start-up: the follower waits for one (a service started
    /// before its log exists), and says whether the directory itself is missing.
    static func nothingMatches(_ pattern: String) -> FollowDiagnostic {
        let directory = RotatedNames.directory(of: pattern)
        let message =
            !RotatedNames.isGlob(directory) && !PathStatus.of(directory).exists
            ? "matches no file, and its directory \(directory) does not exist; waiting for both to appear"
            : "matches no file yet; waiting for one to appear"
        return FollowDiagnostic(code: .nothingMatches, stream: nil, path: pattern, message: message)
    }

    /// At a first start that reads files from their start: the rotated files a glob matches (`mail.log*`:
    /// `mail.log.1`, `mail.log.2.gz`), which are not followed, named (at most 8) so that nobody takes their lines
    /// for read, with `advice` on how to get their lines (``FollowConfiguration/rotatedFilesAdvice``, where "them"
    /// becomes "it" for one file). `nil` when there are none.
    static func rotatedMatchesNotRead(_ pattern: String, _ rotated: [String], advice: String) -> FollowDiagnostic? {
        guard !rotated.isEmpty else { return nil }
        let shown = rotated.prefix(8).joined(separator: " ") + (rotated.count > 8 ? " …" : "")
        let count = rotated.count == 1 ? "1 rotated file" : "\(rotated.count) rotated files"
        return FollowDiagnostic(
            code: .rotatedMatchesNotRead, stream: nil, path: pattern,
            message: "also matches \(count), not read (only live names are followed): \(shown); "
                + "to have \(rotated.count == 1 ? "its" : "their") lines, "
                + (rotated.count == 1
                    ? advice.split(separator: " ", omittingEmptySubsequences: false)
                        .map { $0 == "them" ? "it" : String($0) }.joined(separator: " ")
                    : advice))
    }

    /// The diagnostic for `name`, left out as the file `earlier` is already followed under that name.
    static func sameFile(_ name: String, as earlier: String) -> FollowDiagnostic {
        FollowDiagnostic(
            code: .sameFileTwice, stream: nil, path: name,
            message: name == earlier
                ? "is given twice; followed once"
                : "is the same file as \(earlier); followed once, as \(earlier)")
    }

    /// A monotonic clock in milliseconds (`CLOCK_MONOTONIC`), the default clock.
    public static func monotonicMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    // MARK: - Public API

    /// The followed streams, by index.
    public var streams: [FollowedStream] {
        slots.compactMap { $0.map { FollowedStream(index: $0.index, name: $0.name) } }
    }

    /// The positions after the last delivered line of each stream, for the checkpoint.
    ///
    /// Take it after the lines of the last ``poll(into:)`` were processed. Short fingerprints of growing files
    /// are extended first (so a file that was empty at the last poll can still be recognised after rotation),
    /// and a truncation that the last poll did not see is handled as the next poll would (its diagnostics come
    /// with the next poll's report); no line is delivered.
    /// - Complexity: O(streams), plus one `pread` of at most 4 KiB per file shorter than 4 KiB at the last look.
    public var state: FollowerState {
        var positions: [StreamPosition] = []
        var report = PollReport()
        for case let stream? in slots {
            for file in stream.backlog { file.refreshFingerprint() }
            if let live = stream.live, let size = live.currentSize() {
                // A truncation not polled yet is handled now, as the next poll would: a position with the old
                // fingerprint could not be found again once the rewritten file is rotated or compressed.
                if size < live.readOffset || !live.prefixStillMatches(size: size) {
                    handleTruncation(stream, live, size: size, report: &report)
                }
            }
            positions.append(StreamPosition(name: stream.name, file: stream.position))
        }
        pendingDiagnostics += report.diagnostics
        pendingDecisions += report.decisions
        return FollowerState(streams: positions)
    }

    /// Followed names that have no file now (missing, or between a rename and the next file).
    /// - Complexity: O(streams).
    public var streamsWithoutFile: Int {
        slots.reduce(0) { n, slot in n + (slot.map { $0.live == nil && $0.backlog.isEmpty ? 1 : 0 } ?? 0) }
    }

    /// Per stream: the offset after the last delivered line and the bytes behind the file's current size.
    /// - Complexity: O(streams) `fstat` calls.
    public var lag: [FollowedStreamLag] {
        slots.compactMap { slot in
            guard let stream = slot else { return nil }
            var behind: Int64 = 0
            for file in stream.backlog + (stream.live.map { [$0] } ?? []) {
                if let size = file.currentSize() { behind += max(0, size - file.boundary) }
            }
            return FollowedStreamLag(
                stream: stream.index, name: stream.name, offset: stream.current?.boundary ?? 0, behindBytes: behind)
        }
    }

    /// Reads what is available now from every stream and delivers complete lines, in file order per stream.
    ///
    /// Also notices rotation, truncation, deletion and new glob matches, and flushes partial lines that have
    /// waited for the quiet period. Never blocks on a FIFO; never throws (problems are diagnostics).
    ///
    /// - Parameter consumer: receives every line with its stream index.
    /// - Returns: counts, events and diagnostics of this poll.
    /// - Complexity: O(bytes read) with one `memchr` pass (framer) and one `memrchr` per chunk; at most
    ///   ``FollowConfiguration/maxBytesPerStreamPerPoll`` bytes per stream; plus a `stat` per stream and a
    ///   `glob` per glob pattern.
    public func poll<C: FollowedLineConsumer>(into consumer: inout C) -> PollReport {
        var report = PollReport()
        for diagnostic in pendingDiagnostics { report.add(diagnostic) }
        pendingDiagnostics.removeAll()
        for decision in pendingDecisions.prefix(PollReport.maxDiagnostics) { report.decisions.append(decision) }
        report.decisionsDropped += max(0, pendingDecisions.count - PollReport.maxDiagnostics)
        pendingDecisions.removeAll()
        let now = clock()
        rescanGlobs(now: now, report: &report)
        var lines = StreamLines(consumer: consume consumer, stream: 0)
        for case let stream? in slots {
            pollStream(stream, lines: &lines, now: now, report: &report)
        }
        consumer = lines.take()
        retireGoneStreams(now: now, report: &report)
        if watcher != nil { updateWatches() }
        return report
    }

    /// Blocks until there may be new data, or `timeoutMilliseconds` passes.
    ///
    /// With inotify it returns as soon as a watched directory changes; when polling (forced, or a directory
    /// cannot be watched yet) it returns after at most ``FollowConfiguration/pollIntervalMilliseconds``. It
    /// also returns when a partial line's or a detached file's quiet period ends, so ``poll(into:)`` can act.
    public func wait(timeoutMilliseconds: Int) {
        var timeout = max(0, timeoutMilliseconds)
        let now = clock()
        for case let stream? in slots where stream.waitsForQuietPeriod {
            let due = stream.lastDataMilliseconds + Int64(configuration.partialLineFlushMilliseconds) - now
            timeout = min(timeout, Int(max(0, min(due, Int64(Int32.max)))))
        }
        if let watcher, !configuration.usePolling {
            watcher.watch(watchedDirectories())
            if !watcher.complete { timeout = min(timeout, configuration.pollIntervalMilliseconds) }
            _ = watcher.wait(timeoutMilliseconds: timeout)
            return
        }
        timeout = min(timeout, configuration.pollIntervalMilliseconds)
        var request = timespec(tv_sec: timeout / 1000, tv_nsec: (timeout % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

@available(*, unavailable)
extension LogFollower: Sendable {}
