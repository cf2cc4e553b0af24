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
/// - **directory, FIFO, device** at a name: a diagnostic, and the name is skipped until a regular file is there.
///   A FIFO is never opened (it would block). Glob matches that are not regular files are skipped silently.
///
/// ## Restart
/// ``state`` holds per stream the identity (``FileIdentity``) of the file being read and the offset after its
/// last delivered line. On restore the file is looked for at the name, then among the rotated names
/// (`name.N`, `name-DATE`, each also `.gz`/`.zst`; compressed files are fingerprinted over their decompressed
/// bytes and resumed at the decompressed offset). It is read from the offset to its end, then any newer rotated
/// files, then the name's file from 0. So nothing is read twice and nothing is lost, within the limits below.
/// A saved file that is not found (rotated away and deleted) or that was empty when saved (no content to find it
/// by, and its inode may belong to another file by now) is replaced by every rotated file newer than its
/// ``FilePosition/predecessor``, each read from 0, then the name's file: a whole newer file is never skipped.
/// A file found by its inode alone (other first bytes) is not taken after a restart, as inodes are reused.
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
    private var slots: [FollowStream?] = []
    private var indexByName: [String: Int] = [:]
    private var watcher: DirectoryWatcher?
    private var pendingDiagnostics: [FollowDiagnostic] = []
    private var lastOverLimit = 0
    /// One reused read buffer for every stream (256 KiB).
    private let buffer: UnsafeMutableRawBufferPointer

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
            var matches = RotatedNames.expand(pattern).filter {
                !RotatedNames.looksRotated($0) && PathStatus.of($0).isRegular
            }
            matches += saved.keys.filter { RotatedNames.matches($0, pattern: pattern) }
            for match in Set(matches).sorted() where seen.insert(match).inserted {
                names.append((match, true))
            }
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
        return FollowerState(streams: positions)
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
        let now = clock()
        rescanGlobs(now: now, report: &report)
        withUnsafeMutablePointer(to: &consumer) { target in
            // Safe: `target` is used only inside this closure, while `consumer` is exclusively ours.
            for case let stream? in slots {
                pollStream(stream, target: target, now: now, report: &report)
            }
        }
        retireGoneStreams(report: &report)
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

    // MARK: - Streams

    private func addStream(name: String, fromGlob: Bool, now: Int64) -> FollowStream {
        let index = slots.firstIndex(where: { $0 == nil }) ?? slots.count
        let stream = FollowStream(
            index: index, name: name, fromGlob: fromGlob, maxLineBytes: configuration.maxLineBytes, now: now)
        if index == slots.count { slots.append(stream) } else { slots[index] = stream }
        indexByName[name] = index
        return stream
    }

    private var activeCount: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    private func rescanGlobs(now: Int64, report: inout PollReport) {
        var overLimit = 0
        for pattern in patterns where RotatedNames.isGlob(pattern) {
            for match in RotatedNames.expand(pattern) where indexByName[match] == nil {
                guard !RotatedNames.looksRotated(match), PathStatus.of(match).isRegular else { continue }
                guard activeCount < configuration.maxStreams else {
                    overLimit += 1
                    continue
                }
                let stream = addStream(name: match, fromGlob: true, now: now)
                report.streamsOpened.append(stream.index)
            }
        }
        report.streamsOverLimit = overLimit
        if overLimit > 0 && overLimit != lastOverLimit { report.add(overLimitDiagnostic(overLimit)) }
        lastOverLimit = overLimit
    }

    private func overLimitDiagnostic(_ count: Int) -> FollowDiagnostic {
        FollowDiagnostic(
            code: .streamLimitReached, stream: nil, path: patterns.joined(separator: " "),
            message: "\(count) matching file(s) not followed: maxStreams (\(configuration.maxStreams)) reached")
    }

    private func retireGoneStreams(report: inout PollReport) {
        for case let stream? in slots where stream.fromGlob && stream.live == nil && stream.backlog.isEmpty {
            guard !PathStatus.of(stream.name).isRegular else { continue }
            slots[stream.index] = nil
            indexByName[stream.name] = nil
            report.streamsRetired.append(stream.index)
        }
        while let last = slots.last, last == nil { slots.removeLast() }
    }

    private func watchedDirectories() -> Set<String> {
        var directories: Set<String> = []
        for case let stream? in slots { directories.insert(RotatedNames.directory(of: stream.name)) }
        for pattern in patterns where RotatedNames.isGlob(pattern) {
            let directory = RotatedNames.directory(of: pattern)
            if !RotatedNames.isGlob(directory) { directories.insert(directory) }
        }
        return directories
    }

    private func updateWatches() {
        watcher?.watch(watchedDirectories())
    }

    /// Reports `code` for `stream` unless it is the problem already reported.
    private func note(
        _ stream: FollowStream, _ code: FollowDiagnostic.Code, path: String, _ message: String,
        report: inout PollReport
    ) {
        guard stream.reported != code else { return }
        stream.reported = code
        report.add(FollowDiagnostic(code: code, stream: stream.index, path: path, message: message))
    }

    /// Opens the file at the stream's name as its live file, at ``FollowStream/nextStart``.
    private func openName(_ stream: FollowStream, now: Int64, report: inout PollReport) -> Bool {
        switch PathStatus.of(stream.name) {
        case .missing:
            // A file that is not there now is new when it appears: read it from its start.
            stream.nextStart = .offset(0)
            return false
        case .failed(let code):
            note(stream, .openFailed, path: stream.name, "cannot stat (errno \(code)); retrying", report: &report)
            return false
        case .notRegular(let kind):
            note(
                stream, .notARegularFile, path: stream.name,
                "is \(kind), not a regular file; skipped until a regular file is there", report: &report)
            stream.nextStart = .offset(0)
            return false
        case .regular:
            let file: TrackedFile
            do {
                file = try TrackedFile.open(path: stream.name, start: stream.nextStart)
            } catch {
                let code: FollowDiagnostic.Code = error.code == .notARegularFile ? .notARegularFile : .openFailed
                note(stream, code, path: stream.name, "\(error.message); retrying", report: &report)
                return false
            }
            switch stream.nextPredecessor {
            case .known(let identity): file.predecessor = identity
            case .unknown:
                file.predecessor = newestRotatedWithContent(
                    of: stream.name, excluding: (file.identity.device, file.identity.inode))
            }
            stream.live = file
            stream.nextPredecessor = .unknown
            stream.nextStart = .offset(0)
            stream.reported = nil
            stream.detached = false
            stream.lastDataMilliseconds = now
            return true
        }
    }

    // MARK: - Restore

    private func restore(_ stream: FollowStream, from position: FilePosition, report: inout PollReport) {
        stream.nextStart = .offset(0)
        // An empty file has no content to be recognised by, and its inode may belong to another file by now
        // (rotation deletes files, and new ones get their inodes): it is found as "newer than its predecessor"
        // below, which reads it from 0 wherever it is now - renamed, compressed, copied, or still at the name.
        if position.identity.fingerprintLength > 0 {
            // Twice: a rotation by another process between the look at the name and the search of the rotated
            // names (or a compressor deleting the file just found) moves the file out of both places once.
            for _ in 0..<2 {
                if restoreSavedFile(stream, from: position, report: &report) { return }
            }
        }
        var exclude: (UInt64, UInt64)?
        if case .regular(let device, let inode, _) = PathStatus.of(stream.name) { exclude = (device, inode) }
        let candidates = RotatedNames.candidates(of: stream.name)
        // The saved file is gone (or was empty): every rotated file newer than its predecessor is newer than it
        // (rotation deletes the oldest files first, so without a predecessor found all of them are).
        var newerThan = candidates.count
        if let predecessor = position.predecessor,
            let found = locate(
                predecessor, in: candidates, minimumSize: 0, excluding: exclude, sameInodeFirst: true,
                acceptRewritten: false)
        {
            newerThan = found.index
        }
        // The predecessor by content only: its inode may belong to a newer file by now.
        let (files, skipped) = newerRotated(
            than: newerThan, in: candidates, found: nil, excluding: exclude,
            alreadyQueued: position.predecessor.map { [Self.contentKey($0)] } ?? [])
        let tail = Self.chain(files, after: position.predecessor)
        queue(files, in: stream)
        stream.nextPredecessor = .known(tail)
        if skipped > 0 { noteSkipped(stream, skipped, report: &report) }
        if position.identity.fingerprintLength > 0 {
            let next = files.isEmpty ? "\(stream.name) from its start" : "the \(files.count) rotated file(s) newer than it"
            note(
                stream, .savedFileNotFound, path: position.path,
                "the saved file (\(position.identity), offset \(position.offset)) is neither at \(stream.name) nor "
                    + "among its rotated names (rotated away, or rewritten); reading \(next) - unread bytes of the "
                    + "saved file, if any, are lost", report: &report)
        }
    }

    /// Resumes the saved file with a content fingerprint where it is now: at the name, or among the rotated names
    /// (then the rotated files newer than it follow). Returns `false` when it is not found.
    private func restoreSavedFile(_ stream: FollowStream, from position: FilePosition, report: inout PollReport)
        -> Bool
    {
        var exclude: (UInt64, UInt64)?
        if case .regular(let device, let inode, let size) = PathStatus.of(stream.name) {
            exclude = (device, inode)
            if position.identity.sameInode(device, inode), size >= position.offset,
                let peek = peekPrefix(path: stream.name, count: position.identity.fingerprintLength), !peek.compressed,
                peek.bytes.withUnsafeBytes({ position.identity.matches(prefix: $0) }),
                let file = try? TrackedFile.open(path: stream.name, start: .offset(position.offset)),
                file.identity.sameInode(device, inode)
            {
                file.predecessor = position.predecessor
                stream.live = file
                return true
            }
            // The same inode with other first bytes: inode reuse, or the file rewritten. It is not taken by inode
            // alone (below, nor among the rotated names): a newer file with a reused inode would skip the files
            // between; "newer than the predecessor" reads every newer file, this one included.
        }
        guard
            let found = findRotated(
                of: stream.name, identity: position.identity, offset: position.offset, excluding: exclude,
                sameInodeFirst: true, acceptRewritten: false)
        else { return false }
        found.file.predecessor = position.predecessor
        let files = [found.file] + found.newer
        let tail = Self.chain(found.newer, after: Self.predecessor(after: found.file))
        queue(files, in: stream)
        stream.nextPredecessor = .known(tail)
        if found.skipped > 0 { noteSkipped(stream, found.skipped, report: &report) }
        return true
    }

    /// Sets each file's predecessor (oldest first) after `previous`.
    /// - Returns: the predecessor of the file that comes after the last of them.
    private static func chain(_ files: [TrackedFile], after previous: FileIdentity?) -> FileIdentity? {
        var tail = previous
        for file in files {
            file.predecessor = tail
            tail = predecessor(after: file)
        }
        return tail
    }

    /// The predecessor of the file read after `file`: `file` when it has content, else its own predecessor (an
    /// empty file cannot be recognised, and no line is lost by reading it again).
    private static func predecessor(after file: TrackedFile) -> FileIdentity? {
        file.identity.fingerprintLength > 0 ? file.identity : file.predecessor
    }

    /// The identity of the newest rotated file of `name` with content, the predecessor of a file opened at the
    /// name without history; `nil` when there is none.
    /// - Complexity: one directory scan, then a 4 KiB (decompressed) peek per rotated name until one has bytes.
    private func newestRotatedWithContent(of name: String, excluding: (UInt64, UInt64)) -> FileIdentity? {
        for path in RotatedNames.candidates(of: name) {
            guard let peek = peekPrefix(path: path, count: FileIdentity.maxFingerprintBytes), !peek.bytes.isEmpty,
                !(peek.device == excluding.0 && peek.inode == excluding.1)
            else { continue }
            return peek.bytes.withUnsafeBytes { FileIdentity(device: peek.device, inode: peek.inode, prefix: $0) }
        }
        return nil
    }

    private func noteSkipped(_ stream: FollowStream, _ count: Int, report: inout PollReport) {
        report.add(
            FollowDiagnostic(
                code: .rotatedFilesSkipped, stream: stream.index, path: stream.name,
                message: "\(count) rotated file(s) between the saved position and the newest are not read "
                    + "(more than \(Self.maxRotatedFilesPerStream))"))
    }

    /// Looks for the file `identity` among the rotated names of `name`, and the rotated files newer than it.
    ///
    /// First by device + inode + first bytes (a renamed plain file); then, when `identity` has a fingerprint,
    /// by first (decompressed) bytes alone: a compressed predecessor or a copytruncate copy, whose size (plain)
    /// must reach `offset`. Files with the device and inode `excluding` are never taken.
    private func findRotated(
        of name: String, identity: FileIdentity, offset: Int64, excluding: (UInt64, UInt64)?, sameInodeFirst: Bool,
        acceptRewritten: Bool = true, alreadyQueued: [FileIdentity] = [], before live: FileIdentity? = nil
    ) -> (file: TrackedFile, newer: [TrackedFile], skipped: Int)? {
        let candidates = RotatedNames.candidates(of: name)
        guard
            let (foundIndex, rewritten) = locate(
                identity, in: candidates, minimumSize: offset, excluding: excluding, sameInodeFirst: sameInodeFirst,
                acceptRewritten: acceptRewritten),
            let file = try? TrackedFile.open(path: candidates[foundIndex], start: .offset(rewritten ? 0 : offset))
        else { return nil }
        // Files newer than the live file itself (when it was renamed too) come after it, not before.
        var newerCandidates = candidates
        if let live,
            let liveIndex = locate(live, in: candidates, minimumSize: 0, excluding: nil, sameInodeFirst: true)?.index,
            liveIndex < foundIndex
        {
            newerCandidates = Array(candidates[(liveIndex + 1)...])
        }
        let shift = candidates.count - newerCandidates.count
        let (newer, skipped) = newerRotated(
            than: foundIndex - shift, in: newerCandidates, found: file.identity, excluding: excluding,
            alreadyQueued: alreadyQueued)
        return (file, newer, skipped)
    }

    /// The index in `candidates` of the file `identity`, trying in turn:
    /// 1. (when `sameInodeFirst`) device + inode + first bytes: the file, renamed;
    /// 2. first (decompressed) bytes alone, with a plain file's size at least `minimumSize`: the file compressed,
    ///    or a copytruncate copy;
    /// 3. (when `sameInodeFirst`) device + inode alone: the same inode, truncated and written again before it
    ///    was renamed - `rewritten` is `true` and it must be read from 0. Only while running (`acceptRewritten`):
    ///    the follower holds the file open, so its inode cannot have been reused; after a restart it can.
    /// Files with the device and inode `excluding` are never taken.
    private func locate(
        _ identity: FileIdentity, in candidates: [String], minimumSize: Int64, excluding: (UInt64, UInt64)?,
        sameInodeFirst: Bool, acceptRewritten: Bool = true
    ) -> (index: Int, rewritten: Bool)? {
        func isExcluded(_ device: UInt64, _ inode: UInt64) -> Bool {
            guard let excluding else { return false }
            return excluding.0 == device && excluding.1 == inode
        }
        var sameInode: Int?
        if sameInodeFirst {
            for (index, path) in candidates.enumerated() {
                guard case .regular(let device, let inode, _) = PathStatus.of(path),
                    identity.sameInode(device, inode), !isExcluded(device, inode)
                else { continue }
                if sameInode == nil { sameInode = index }
                guard let peek = peekPrefix(path: path, count: identity.fingerprintLength), !peek.compressed,
                    peek.bytes.withUnsafeBytes({ identity.matches(prefix: $0) })
                else { continue }
                return (index, false)
            }
        }
        if identity.fingerprintLength > 0 {
            for (index, path) in candidates.enumerated() {
                guard let peek = peekPrefix(path: path, count: identity.fingerprintLength),
                    !isExcluded(peek.device, peek.inode), peek.compressed || peek.size >= minimumSize,
                    peek.bytes.withUnsafeBytes({ identity.matches(prefix: $0) })
                else { continue }
                return (index, false)
            }
        }
        guard acceptRewritten else { return nil }
        return sameInode.map { ($0, true) }
    }

    /// Opens the rotated files named before `index` (newer), oldest first, without repeats of the same content
    /// (`x.1` and `x.1.gz` during compression) and without the live file; at most ``maxRotatedFilesPerStream``.
    private func newerRotated(
        than index: Int, in candidates: [String], found: FileIdentity?, excluding: (UInt64, UInt64)?,
        alreadyQueued: [FileIdentity]
    ) -> (files: [TrackedFile], skipped: Int) {
        guard index > 0 else { return ([], 0) }
        var contents = Set(alreadyQueued)
        if let found { contents.insert(Self.contentKey(found)) }
        var files: [TrackedFile] = []
        let names = Set(candidates)
        for path in candidates[0..<index] {
            // `x.2` and `x.2.gz` both there: the compressor is still writing `x.2.gz`; `x.2` is complete.
            if let dot = path.utf8.lastIndex(of: UInt8(ascii: ".")), [".gz", ".zst"].contains(String(path[dot...])),
                names.contains(String(path[..<dot]))
            {
                continue
            }
            // An empty rotated file has nothing to read (and would count against the bound).
            guard case .regular(let device, let inode, let size) = PathStatus.of(path), size > 0,
                !(excluding.map { $0.0 == device && $0.1 == inode } ?? false),
                !(found?.sameInode(device, inode) ?? false),
                let file = try? TrackedFile.open(path: path, start: .offset(0)),
                contents.insert(Self.contentKey(file.identity)).inserted
            else { continue }
            files.append(file)
        }
        let skipped = max(0, files.count - Self.maxRotatedFilesPerStream)
        return (Array(files.prefix(Self.maxRotatedFilesPerStream).reversed()), skipped)
    }

    /// Appends rotated files to the backlog and remembers their content, so that a later search (a switch
    /// after a copytruncate, say) does not queue the same rotated file again.
    private func queue(_ files: [TrackedFile], in stream: FollowStream) {
        stream.backlog += files
        for file in files {
            stream.recentlyQueued.append(Self.contentKey(file.identity))
        }
        if stream.recentlyQueued.count > FollowStream.recentlyQueuedLimit {
            stream.recentlyQueued.removeFirst(stream.recentlyQueued.count - FollowStream.recentlyQueuedLimit)
        }
    }

    /// An identity reduced to its content (the same bytes under two names compare equal).
    private static func contentKey(_ identity: FileIdentity) -> FileIdentity {
        FileIdentity(device: 0, inode: 0, fingerprint: identity.fingerprint, fingerprintLength: identity.fingerprintLength)
    }

    // MARK: - Reading

    private enum DrainResult {
        case endOfFile
        case budgetExhausted
        case failed
    }

    private func pollStream<C: FollowedLineConsumer>(
        _ stream: FollowStream, target: UnsafeMutablePointer<C>, now: Int64, report: inout PollReport
    ) {
        var lines = StreamLines(target: target, stream: stream.index)
        var budget = configuration.maxBytesPerStreamPerPoll
        // Each round switches at most one file; bounded so that a pathological directory cannot spin us.
        for _ in 0..<(Self.maxRotatedFilesPerStream + 4) {
            while let head = stream.backlog.first {
                switch drain(head, stream: stream, lines: &lines, budget: &budget, now: now, report: &report) {
                case .budgetExhausted:
                    report.moreAvailable = true
                    return
                case .endOfFile, .failed:
                    finish(head, stream: stream, lines: &lines, report: &report)
                    stream.backlog.removeFirst()
                }
            }
            guard let live = stream.live else {
                if openName(stream, now: now, report: &report) { continue }
                return
            }
            let status = PathStatus.of(stream.name)
            var atName = false
            if case .regular(let device, let inode, _) = status, live.identity.sameInode(device, inode) {
                atName = true
            }
            if let (size, modification) = live.currentSizeAndModification() {
                // Shorter than read: truncated. Changed (size or time) with other first bytes: truncated and
                // written again, maybe past the old size, or to the very same size.
                let changed = size != live.lastSize || modification != live.lastModification
                if size < live.readOffset || (changed && !live.prefixStillMatches(size: size)) {
                    handleTruncation(stream, live, size: size, report: &report)
                    continue
                }
                live.lastSize = size
                live.lastModification = modification
            }
            switch drain(live, stream: stream, lines: &lines, budget: &budget, now: now, report: &report) {
            case .budgetExhausted:
                report.moreAvailable = true
                return
            case .failed:
                return
            case .endOfFile:
                break
            }
            if atName {
                stream.detached = false
                if stream.reported == .notARegularFile { stream.reported = nil }
                flushIfQuiet(live, stream: stream, lines: &lines, now: now, report: &report)
                return
            }
            let quiet = now - stream.lastDataMilliseconds >= Int64(configuration.partialLineFlushMilliseconds)
            switch status {
            case .regular(let device, let inode, let successorSize)
            where successorSize > 0 || quiet || rotatedAgain(live, name: stream.name, successor: (device, inode)):
                switchToSuccessor(stream, from: live, lines: &lines, report: &report)
                continue
            case .notRegular(let kind):
                note(
                    stream, .notARegularFile, path: stream.name,
                    "is now \(kind), not a regular file; skipped until a regular file is there", report: &report)
            default:
                break
            }
            stream.detached = !status.isRegular
            if quiet && stream.detached {
                // Renamed or deleted, drained and quiet: close it. The position becomes "none", so a file that
                // appears at the name later is read from 0.
                finish(live, stream: stream, lines: &lines, report: &report)
                live.refreshFingerprint()
                stream.nextPredecessor = .known(Self.predecessor(after: live))
                stream.live = nil
                stream.detached = false
            } else {
                flushIfQuiet(live, stream: stream, lines: &lines, now: now, report: &report)
            }
            return
        }
    }

    /// Reads `file` to its current end or until `budget` is spent, framing and delivering lines.
    private func drain<C: FollowedLineConsumer>(
        _ file: TrackedFile, stream: FollowStream, lines: inout StreamLines<C>, budget: inout Int, now: Int64,
        report: inout PollReport
    ) -> DrainResult {
        while budget > 0 {
            let start = file.readOffset
            let count: Int
            do {
                count = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, budget)]))
            } catch {
                note(stream, .readFailed, path: file.path, error.description, report: &report)
                return .failed
            }
            if count == 0 { return .endOfFile }
            if stream.reported == .readFailed { stream.reported = nil }
            budget -= count
            report.bytesRead += Int64(count)
            stream.lastDataMilliseconds = now
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            let linesBefore = stream.framer.lines
            let tooLongBefore = stream.framer.linesTooLong
            stream.framer.push(chunk, to: &lines)
            report.linesDelivered += stream.framer.lines - linesBefore
            report.linesTooLong += stream.framer.linesTooLong - tooLongBefore
            if let newline = lastNewline(in: chunk) { file.boundary = start + Int64(newline) + 1 }
        }
        return .budgetExhausted
    }

    /// Whether the name was rotated again since `old` left it (a rotated file is newer than `old`): then the
    /// writer has certainly moved on, and waiting for the empty successor to get data would only let rotated
    /// files pile up.
    private func rotatedAgain(_ old: TrackedFile, name: String, successor: (UInt64, UInt64)) -> Bool {
        let candidates = RotatedNames.candidates(of: name)
        guard let found = locate(
            old.identity, in: candidates, minimumSize: old.boundary, excluding: successor, sameInodeFirst: true)
        else { return false }
        return found.index > 0
    }

    /// Ends a file: its unfinished last line (if not overlong) is delivered; the framer is emptied.
    private func finish<C: FollowedLineConsumer>(
        _ file: TrackedFile, stream: FollowStream, lines: inout StreamLines<C>, report: inout PollReport
    ) {
        let linesBefore = stream.framer.lines
        stream.framer.finish(to: &lines)
        let flushed = stream.framer.lines - linesBefore
        report.linesDelivered += flushed
        report.partialLinesFlushed += flushed
        file.boundary = file.readOffset
    }

    /// Delivers a partial last line of `file` once no data came for the quiet period. An overlong line being
    /// skipped is left alone (its rest is skipped when it comes).
    private func flushIfQuiet<C: FollowedLineConsumer>(
        _ file: TrackedFile, stream: FollowStream, lines: inout StreamLines<C>, now: Int64, report: inout PollReport
    ) {
        let partial = file.readOffset - file.boundary
        guard partial > 0, partial <= Int64(configuration.maxLineBytes),
            now - stream.lastDataMilliseconds >= Int64(configuration.partialLineFlushMilliseconds)
        else { return }
        finish(file, stream: stream, lines: &lines, report: &report)
    }

    /// The name points at a new file with data (or the old one is quiet): finish the old file, queue rotated
    /// files newer than it (several rotations since the last poll), and open the new file from 0.
    private func switchToSuccessor<C: FollowedLineConsumer>(
        _ stream: FollowStream, from old: TrackedFile, lines: inout StreamLines<C>, report: inout PollReport
    ) {
        report.rotations += 1
        finish(old, stream: stream, lines: &lines, report: &report)
        old.refreshFingerprint()
        var newerFiles: [TrackedFile] = []
        var excluding: (UInt64, UInt64)?
        if case .regular(let device, let inode, _) = PathStatus.of(stream.name) { excluding = (device, inode) }
        let candidates = RotatedNames.candidates(of: stream.name)
        // Where the old file is now (renamed, or compressed since), to find the rotated files newer than it.
        let oldIndex = locate(
            old.identity, in: candidates, minimumSize: old.boundary, excluding: excluding, sameInodeFirst: true)?.index
        if let oldIndex {
            let (newer, skipped) = newerRotated(
                than: oldIndex, in: candidates, found: old.identity, excluding: excluding,
                alreadyQueued: stream.recentlyQueued)
            newerFiles = newer
            queue(newer, in: stream)
            if skipped > 0 { noteSkipped(stream, skipped, report: &report) }
        }
        stream.nextPredecessor = .known(Self.chain(newerFiles, after: Self.predecessor(after: old)))
        stream.live = nil
        stream.detached = false
        stream.nextStart = .offset(0)
    }

    /// The live file got shorter than read, or its first bytes changed: find the copy holding the unread bytes
    /// (copytruncate), queue it from the delivered offset, and restart the live file at 0.
    private func handleTruncation(_ stream: FollowStream, _ live: TrackedFile, size: Int64, report: inout PollReport) {
        report.truncations += 1
        stream.framer.reset()
        let old = (identity: live.identity, boundary: live.boundary, known: max(live.lastSize, live.readOffset))
        let olderThanOld = live.predecessor
        // The file starts over; its new content (possibly already rotated and compressed under another name)
        // is read through the descriptor, so it must not be queued as a rotated file too.
        live.rewind()
        var copied = false
        if old.identity.fingerprintLength > 0,
            let found = findRotated(
                of: stream.name, identity: old.identity, offset: old.boundary,
                excluding: (old.identity.device, old.identity.inode), sameInodeFirst: false,
                alreadyQueued: stream.recentlyQueued + [Self.contentKey(live.identity)], before: live.identity)
        {
            // The copy holds the old content; the rewritten file comes after it and the newer rotated files.
            live.predecessor = Self.chain([found.file] + found.newer, after: olderThanOld)
            queue([found.file] + found.newer, in: stream)
            if found.skipped > 0 { noteSkipped(stream, found.skipped, report: &report) }
            copied = true
        }
        if !copied && old.known > old.boundary {
            report.add(
                FollowDiagnostic(
                    code: .truncatedDataLost, stream: stream.index, path: live.path,
                    message: "truncated to \(size) bytes with \(old.known - old.boundary) bytes not yet delivered "
                        + "and no rotated copy holding them; they are lost"))
        }
    }
}

@available(*, unavailable)
extension LogFollower: Sendable {}

/// The index of the last `\n` in `chunk`, searching backwards (glibc's `memrchr` is not exposed to Swift).
///
/// - Complexity: O(length of the chunk's unfinished tail): log lines are short, so a few hundred bytes.
@inline(__always)
private func lastNewline(in chunk: UnsafeRawBufferPointer) -> Int? {
    var index = chunk.count - 1
    while index >= 0 {
        if chunk[index] == 0x0A { return index }
        index -= 1
    }
    return nil
}
