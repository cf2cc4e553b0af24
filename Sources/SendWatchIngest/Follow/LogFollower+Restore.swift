// Restart: resuming each stream at its saved position, finding a saved file among the rotated names.

extension LogFollower {
    func restore(_ stream: FollowStream, from position: FilePosition, report: inout PollReport) {
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
        let (files, skipped) = searchRotatedNames(of: stream.name, stream: stream.index, report: &report) {
            candidates in
            // The saved file is gone (or was empty): every rotated file newer than its predecessor is newer than
            // it (rotation deletes the oldest files first, so without a predecessor found all of them are).
            var newerThan = candidates.count
            if let predecessor = position.predecessor,
                let found = locate(
                    predecessor, in: candidates, minimumSize: 0, excluding: exclude, sameInodeFirst: true,
                    acceptRewritten: false)
            {
                newerThan = found.index
            }
            // The predecessor by content only: its inode may belong to a newer file by now.
            return newerRotated(
                than: newerThan, in: candidates, found: nil, excluding: exclude,
                alreadyQueued: position.predecessor.map { [Self.contentKey($0)] } ?? [])
        }
        let tail = Self.chain(files, after: position.predecessor)
        queue(files, in: stream, report: &report)
        stream.nextPredecessor = .known(tail)
        if skipped > 0 { noteSkipped(stream, skipped, report: &report) }
        if position.identity.fingerprintLength > 0 {
            let next =
                files.isEmpty ? "\(stream.name) from its start" : "the \(files.count) rotated file(s) newer than it"
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
                stream.hadFile = true
                report.decided(
                    .positionResumed, stream: stream.index, path: stream.name,
                    "resumed the saved file at the name from offset \(position.offset)")
                return true
            }
            // The same inode with other first bytes: inode reuse, or the file rewritten. It is not taken by inode
            // alone (below, nor among the rotated names): a newer file with a reused inode would skip the files
            // between; "newer than the predecessor" reads every newer file, this one included.
        }
        guard
            let found = findRotated(
                of: stream.name, identity: position.identity, offset: position.offset, excluding: exclude,
                sameInodeFirst: true, acceptRewritten: false, stream: stream.index, report: &report)
        else { return false }
        found.file.predecessor = position.predecessor
        report.decided(
            .positionResumed, stream: stream.index, path: found.file.path,
            "the saved file was rotated to this name; resuming it from offset \(position.offset)")
        let files = [found.file] + found.newer
        let tail = Self.chain(found.newer, after: Self.predecessor(after: found.file))
        queue(files, in: stream, report: &report)
        stream.nextPredecessor = .known(tail)
        if found.skipped > 0 { noteSkipped(stream, found.skipped, report: &report) }
        return true
    }

    /// Queues the rotated files newer than `predecessor` that are not read yet, before `opened` (the file just
    /// opened at the name), and returns the predecessor of `opened`: the newest of them, else `predecessor`.
    ///
    /// The file at the name is opened after the rotated names were searched (on restore, at a switch to the
    /// successor, after the backlog was drained). A rotation in between (logrotate running concurrently, or
    /// while the backlog was read) renames the name's file of the search to `name.1` and creates another: that
    /// file would be skipped whole, and a listing that a concurrent rename made stale misses files the same way.
    /// Nothing is queued when `predecessor` is not among the rotated names (deleted, or never rotated).
    /// - Complexity: one directory scan and a 4 KiB (decompressed) peek per rotated name up to the predecessor;
    ///   only when a file is opened at the name, never per line.
    func queueRotatedSince(
        _ predecessor: FileIdentity, in stream: FollowStream, opened: TrackedFile, report: inout PollReport
    ) -> FileIdentity {
        let excluding = (opened.identity.device, opened.identity.inode)
        var queued = stream.recentlyQueued + [Self.contentKey(predecessor)]
        if opened.identity.fingerprintLength > 0 { queued.append(Self.contentKey(opened.identity)) }
        let (files, skipped) = searchRotatedNames(of: stream.name, stream: stream.index, report: &report) {
            candidates -> ([TrackedFile], Int) in
            guard
                let found = locate(
                    predecessor, in: candidates, minimumSize: 0, excluding: excluding, sameInodeFirst: true,
                    acceptRewritten: false), found.index > 0
            else { return ([], 0) }
            return newerRotated(
                than: found.index, in: candidates, found: predecessor, excluding: excluding, alreadyQueued: queued)
        }
        if skipped > 0 { noteSkipped(stream, skipped, report: &report) }
        guard !files.isEmpty else { return predecessor }
        queue(files, in: stream, report: &report)
        return Self.chain(files, after: predecessor) ?? predecessor
    }

    /// At most this many searches of the rotated names per look: the first, and one more for each listing that
    /// changed under the search before.
    static let maxRotatedSearches = 3

    /// Runs `search` on the rotated names of `name`, and again while the names changed under it.
    ///
    /// A search lists the names, then `stat`s, peeks at and opens them one at a time. logrotate's cascade
    /// (`name.2.gz` to `name.3.gz`, then `name.1` to `name.2`, ...) takes microseconds, but a loaded machine
    /// stretches the gap between two steps: a name listed may be gone when it is looked at, or already hold the
    /// next newer file, and the file that was there would be skipped without a word. So the names are listed
    /// (with each one's device and inode) before and after the search; when they differ, the search runs again
    /// on the new listing (the files the stale one opened are closed), at most ``maxRotatedSearches`` times, and
    /// the last result is taken (a rename every few microseconds is not log rotation).
    /// `search` must not change the follower's state: it returns what to do, and the caller does it.
    /// - Complexity: per search, one directory scan and one `stat` per rotated name (at most
    ///   ``RotatedNames/maxCandidates``) more than the search itself; only where rotated names are searched.
    func searchRotatedNames<Found>(
        of name: String, stream: Int, report: inout PollReport, _ search: ([String]) -> Found
    ) -> Found {
        var listing = RotatedNames.listing(of: name)
        var searches = 1
        while true {
            afterRotatedNamesListed?()
            let found = search(listing.paths)
            let after = RotatedNames.listing(of: name)
            if after == listing || searches == Self.maxRotatedSearches { return found }
            report.decided(
                .rotatedNamesChanged, stream: stream, path: name,
                "the rotated names changed while they were searched (a rotation ran then); searching again")
            listing = after
            searches += 1
        }
    }

    /// Sets each file's predecessor (oldest first) after `previous`.
    /// - Returns: the predecessor of the file that comes after the last of them.
    static func chain(_ files: [TrackedFile], after previous: FileIdentity?) -> FileIdentity? {
        var tail = previous
        for file in files {
            file.predecessor = tail
            tail = predecessor(after: file)
        }
        return tail
    }

    /// The predecessor of the file read after `file`: `file` when it has content, else its own predecessor (an
    /// empty file cannot be recognised, and no line is lost by reading it again).
    static func predecessor(after file: TrackedFile) -> FileIdentity? {
        file.identity.fingerprintLength > 0 ? file.identity : file.predecessor
    }

    /// The identity of the newest rotated file of `name` with content, the predecessor of a file opened at the
    /// name without history; `nil` when there is none.
    /// - Complexity: one directory scan, then a 4 KiB (decompressed) peek per rotated name until one has bytes.
    func newestRotatedWithContent(of name: String, excluding: (UInt64, UInt64)) -> FileIdentity? {
        for path in RotatedNames.candidates(of: name) {
            guard let peek = peekPrefix(path: path, count: FileIdentity.maxFingerprintBytes), !peek.bytes.isEmpty,
                !(peek.device == excluding.0 && peek.inode == excluding.1)
            else { continue }
            return peek.bytes.withUnsafeBytes { FileIdentity(device: peek.device, inode: peek.inode, prefix: $0) }
        }
        return nil
    }

    func noteSkipped(_ stream: FollowStream, _ count: Int, report: inout PollReport) {
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
    func findRotated(
        of name: String, identity: FileIdentity, offset: Int64, excluding: (UInt64, UInt64)?, sameInodeFirst: Bool,
        acceptRewritten: Bool = true, alreadyQueued: [FileIdentity] = [], before live: FileIdentity? = nil,
        stream: Int, report: inout PollReport
    ) -> (file: TrackedFile, newer: [TrackedFile], skipped: Int)? {
        searchRotatedNames(of: name, stream: stream, report: &report) { candidates in
            findRotatedOnce(
                identity: identity, offset: offset, excluding: excluding, sameInodeFirst: sameInodeFirst,
                acceptRewritten: acceptRewritten, alreadyQueued: alreadyQueued, before: live, in: candidates)
        }
    }

    /// ``findRotated(of:identity:offset:excluding:sameInodeFirst:acceptRewritten:alreadyQueued:before:)`` on one
    /// listing of the rotated names.
    private func findRotatedOnce(
        identity: FileIdentity, offset: Int64, excluding: (UInt64, UInt64)?, sameInodeFirst: Bool,
        acceptRewritten: Bool, alreadyQueued: [FileIdentity], before live: FileIdentity?, in candidates: [String]
    ) -> (file: TrackedFile, newer: [TrackedFile], skipped: Int)? {
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
    func locate(
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
    func newerRotated(
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
            if let dot = path.utf8.lastIndex(of: UInt8(ascii: ".")),
                RotatedNames.compressedEndings.contains(where: { path.utf8[dot...].elementsEqual($0) }),
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
    func queue(_ files: [TrackedFile], in stream: FollowStream, report: inout PollReport) {
        if !files.isEmpty {
            report.decided(
                .rotatedFilesQueued, stream: stream.index, path: stream.name,
                "queued to read before the file at the name, oldest first: "
                    + files.map { "\($0.path) from \($0.readOffset)" }.joined(separator: ", "))
        }
        stream.backlog += files
        for file in files {
            stream.recentlyQueued.append(Self.contentKey(file.identity))
        }
        if stream.recentlyQueued.count > FollowStream.recentlyQueuedLimit {
            stream.recentlyQueued.removeFirst(stream.recentlyQueued.count - FollowStream.recentlyQueuedLimit)
        }
    }

    /// An identity reduced to its content (the same bytes under two names compare equal).
    static func contentKey(_ identity: FileIdentity) -> FileIdentity {
        FileIdentity(
            device: 0, inode: 0, fingerprint: identity.fingerprint, fingerprintLength: identity.fingerprintLength)
    }
}
