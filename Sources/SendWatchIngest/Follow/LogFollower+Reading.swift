// Reading: draining each stream's files in order through rotation and truncation, and flushing partial lines.

extension LogFollower {
    private enum DrainResult {
        case endOfFile
        case budgetExhausted
        case failed
    }

    func pollStream<C: FollowedLineConsumer>(
        _ stream: FollowStream, lines: inout StreamLines<C>, now: Int64, report: inout PollReport
    ) {
        lines.stream = stream.index
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
                    stream.dropped(head)
                    stream.backlog.removeFirst()
                    // A rotated file read to its end with no file open at the name (a restart between a rename
                    // and the create): the name gets the quiet period for its successor, as a closed live file does.
                    if stream.live == nil { stream.closedMilliseconds = now }
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
                // Renamed or deleted, drained and quiet: close it. The position becomes its end (``finished``):
                // a file that appears at the name later is read from 0, after any rotated files newer than it.
                finish(live, stream: stream, lines: &lines, report: &report)
                stream.dropped(live)
                stream.nextPredecessor = .known(Self.predecessor(after: live))
                stream.live = nil
                stream.detached = false
                stream.closedMilliseconds = now
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
                count = try file.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, budget)]))
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
        guard
            let found = locate(
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
        report.decided(
            .fileSwitched, stream: stream.index, path: stream.name,
            "another file is at the name (rotation): finished the old one at offset \(old.readOffset)")
        let lastWritten = old.currentSizeAndModification()?.modification ?? old.lastModification
        finish(old, stream: stream, lines: &lines, report: &report)
        stream.dropped(old)
        var newerFiles: [TrackedFile] = []
        var excluding: (UInt64, UInt64)?
        if case .regular(let device, let inode, _) = PathStatus.of(stream.name) { excluding = (device, inode) }
        // Where the old file is now (renamed, or compressed since), to find the rotated files newer than it.
        let search = searchRotatedNames(of: stream.name, stream: stream.index, report: &report) {
            candidates -> ([TrackedFile], Int)? in
            guard
                let oldIndex = locate(
                    old.identity, in: candidates, minimumSize: old.boundary, excluding: excluding,
                    sameInodeFirst: true)?.index
            else { return nil }
            return newerRotated(
                than: oldIndex, in: candidates, found: old.identity, excluding: excluding,
                alreadyQueued: stream.recentlyQueued)
        }
        if let (newer, skipped) = search {
            newerFiles = newer
            queue(newer, in: stream, report: &report)
            if skipped > 0 { noteSkipped(stream, skipped, report: &report) }
        } else {
            noteUnread(stream, writtenAfter: lastWritten, excluding: excluding, report: &report)
        }
        stream.nextPredecessor = .known(Self.chain(newerFiles, after: Self.predecessor(after: old)))
        stream.live = nil
        stream.detached = false
        stream.nextStart = .offset(0)
    }

    /// The old file is at none of the rotated names: a rotated file written after it was a successor that
    /// will not be read (the predecessor it would be queued after is gone). Reports them. A setup that deletes
    /// its log instead of rotating it has no rotated files, or only older ones, and gets no report.
    /// - Complexity: one directory scan and one `stat` per rotated name; only at a rotation whose old file
    ///   was not found.
    private func noteUnread(
        _ stream: FollowStream, writtenAfter lastWritten: Int64, excluding: (UInt64, UInt64)?,
        report: inout PollReport
    ) {
        let unread = RotatedNames.listing(of: stream.name).paths.filter { path in
            if let excluding, case .regular(let device, let inode, _) = PathStatus.of(path),
                (device, inode) == excluding
            {
                return false
            }
            return (PathStatus.modification(of: path) ?? .min) > lastWritten
        }
        guard let first = unread.first else { return }
        note(
            stream, .rotatedFilesUnread, path: first,
            "the file finished at the rotation is at none of the rotated names (removed by a later rotation while "
                + "it was read); \(unread.count) rotated file(s) written after it, the first shown, were not read",
            report: &report)
    }

    /// The live file got shorter than read, or its first bytes changed: find the copy holding the unread bytes
    /// (copytruncate), queue it from the delivered offset, and restart the live file at 0.
    func handleTruncation(_ stream: FollowStream, _ live: TrackedFile, size: Int64, report: inout PollReport) {
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
                alreadyQueued: stream.recentlyQueued + [Self.contentKey(live.identity)], before: live.identity,
                stream: stream.index, report: &report)
        {
            // The copy holds the old content; the rewritten file comes after it and the newer rotated files.
            live.predecessor = Self.chain([found.file] + found.newer, after: olderThanOld)
            queue([found.file] + found.newer, in: stream, report: &report)
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
