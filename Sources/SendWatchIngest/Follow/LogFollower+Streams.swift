// Streams: adding them from names and globs, retiring gone glob matches, inotify watches, opening a name.

extension LogFollower {
    func addStream(name: String, fromGlob: Bool, now: Int64) -> FollowStream {
        let index = slots.firstIndex(where: { $0 == nil }) ?? slots.count
        let stream = FollowStream(
            index: index, name: name, fromGlob: fromGlob, maxLineBytes: configuration.maxLineBytes, now: now)
        if index == slots.count { slots.append(stream) } else { slots[index] = stream }
        indexByName[name] = index
        return stream
    }

    private var activeCount: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    func rescanGlobs(now: Int64, report: inout PollReport) {
        var overLimit = 0
        // The files open now, by device and inode, built at the first new match: a new match that is one of
        // them under another spelling is not followed twice.
        var followed: [InputOrder.FileKey: String]?
        for pattern in patterns where RotatedNames.isGlob(pattern) {
            for match in RotatedNames.expand(pattern) where indexByName[match] == nil {
                guard !RotatedNames.looksRotated(match),
                    case .regular(let device, let inode, _) = PathStatus.of(match)
                else { continue }
                if followed == nil { followed = followedFiles() }
                if let earlier = followed?[InputOrder.FileKey(device: device, inode: inode)] {
                    if sameFileReported.count < Self.maxSameFileReported, sameFileReported.insert(match).inserted {
                        report.add(Self.sameFile(match, as: earlier))
                    }
                    continue
                }
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

    /// The name of each stream with a file open at its name, by that file's device and inode.
    private func followedFiles() -> [InputOrder.FileKey: String] {
        var files: [InputOrder.FileKey: String] = [:]
        for case let stream? in slots {
            guard let live = stream.live else { continue }
            files[InputOrder.FileKey(device: live.identity.device, inode: live.identity.inode)] = stream.name
        }
        return files
    }

    func overLimitDiagnostic(_ count: Int) -> FollowDiagnostic {
        FollowDiagnostic(
            code: .streamLimitReached, stream: nil, path: patterns.joined(separator: " "),
            message: "\(count) matching file(s) not followed: maxStreams (\(configuration.maxStreams)) reached")
    }

    /// Retires glob streams whose file is gone and read: no file open, none queued, no regular file at the name,
    /// and - when this run closed the stream's file - a quiet period (``FollowConfiguration/partialLineFlushMilliseconds``)
    /// since it was closed, so that a successor created after a rename continues the stream instead of starting a
    /// new one (with fresh parser state in the consumer). A stream that had no file open in this run (its file went
    /// while the follower was stopped) is retired at once.
    func retireGoneStreams(now: Int64, report: inout PollReport) {
        for case let stream? in slots where stream.fromGlob && stream.live == nil && stream.backlog.isEmpty {
            guard !PathStatus.of(stream.name).isRegular else { continue }
            if let closed = stream.closedMilliseconds,
                now - closed < Int64(configuration.partialLineFlushMilliseconds)
            {
                continue
            }
            slots[stream.index] = nil
            indexByName[stream.name] = nil
            report.streamsRetired.append(stream.index)
        }
        while let last = slots.last, last == nil { slots.removeLast() }
    }

    func watchedDirectories() -> Set<String> {
        var directories: Set<String> = []
        for case let stream? in slots { directories.insert(RotatedNames.directory(of: stream.name)) }
        for pattern in patterns where RotatedNames.isGlob(pattern) {
            let directory = RotatedNames.directory(of: pattern)
            if !RotatedNames.isGlob(directory) { directories.insert(directory) }
        }
        return directories
    }

    func updateWatches() {
        watcher?.watch(watchedDirectories())
    }

    /// Reports `code` for `stream` unless it is the problem already reported.
    func note(
        _ stream: FollowStream, _ code: FollowDiagnostic.Code, path: String, _ message: String,
        report: inout PollReport
    ) {
        guard stream.reported != code else { return }
        stream.reported = code
        report.add(FollowDiagnostic(code: code, stream: stream.index, path: path, message: message))
    }

    /// Opens the file at the stream's name as its live file, at ``FollowStream/nextStart``.
    func openName(_ stream: FollowStream, now: Int64, report: inout PollReport) -> Bool {
        switch PathStatus.of(stream.name) {
        case .missing:
            // A file that is not there now is new when it appears: read it from its start.
            stream.nextStart = .offset(0)
            if !stream.hadFile {
                let directory = RotatedNames.directory(of: stream.name)
                note(
                    stream, .pathMissing, path: stream.name,
                    PathStatus.of(directory).exists
                        ? "does not exist (or is a link to nothing); waiting for it to appear"
                        : "does not exist, nor does its directory \(directory); waiting for it to appear",
                    report: &report)
            }
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
            case .known(let identity?) where identity.fingerprintLength > 0:
                // The rotated names were searched before this open (on restore, at the switch from the old
                // file, or before the backlog was drained): a rotation since then moved the file that was at
                // the name then to a rotated name, and this file is its successor. Queue what is newer than
                // the predecessor now, so that file is read before this one.
                file.predecessor = queueRotatedSince(identity, in: stream, opened: file, report: &report)
            case .known(let identity): file.predecessor = identity
            case .unknown:
                file.predecessor = newestRotatedWithContent(
                    of: stream.name, excluding: (file.identity.device, file.identity.inode))
            }
            report.decided(.fileOpened, stream: stream.index, path: stream.name, "opened from \(file.readOffset)")
            stream.live = file
            stream.hadFile = true
            stream.nextPredecessor = .unknown
            stream.nextStart = .offset(0)
            stream.reported = nil
            stream.detached = false
            stream.closedMilliseconds = nil
            stream.lastDataMilliseconds = now
            return true
        }
    }
}
