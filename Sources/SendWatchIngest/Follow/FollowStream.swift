/// One followed name: its framer, the rotated files still to finish, and the file at (or last at) the name.
final class FollowStream {
    let index: Int
    let name: String
    /// Whether the name came from a glob (such streams retire when their file is gone and read).
    let fromGlob: Bool
    var framer: LineFramer
    /// Files to read to their end before ``live``, oldest first: a rotated predecessor found on restore, a
    /// `copytruncate` copy, rotated files newer than the one being read. At most
    /// ``LogFollower/maxRotatedFilesPerStream`` + 1.
    var backlog: [TrackedFile] = []
    /// The file at the name, or the one that was there until it was renamed or deleted (``detached``).
    var live: TrackedFile?
    /// The name no longer points at ``live``: it is drained until a successor has data or it has been quiet.
    var detached = false
    /// The injected clock's time when a detached file was closed with no file at the name (renamed or deleted,
    /// drained and quiet), or a rotated file of the backlog was finished with none open at the name (a restart
    /// between a rename and the create), until a file is opened at the name again. A glob stream is retired only a quiet
    /// period after it (``LogFollower/retireGoneStreams(now:report:)``): a rename that the poll saw before the
    /// create (logrotate's rename + create, or a writer that creates the file on its next line) is a gap in the
    /// stream, and its successor continues the stream - and the parser state its consumer keeps - as it does
    /// for a plain name.
    var closedMilliseconds: Int64?
    /// Where the next file opened at the name starts.
    var nextStart: TrackedFile.Start = .offset(0)
    /// The injected clock's time of the last bytes read, for the quiet period.
    var lastDataMilliseconds: Int64
    /// The problem last reported for this stream, so that it is reported once per change.
    var reported: FollowDiagnostic.Code?
    /// Whether a file was ever opened at the name in this run (or restored): a name that never had one is
    /// reported missing, a gap between a rename and the next file is not.
    var hadFile = false
    /// Content keys (fingerprint and length) of the last rotated files queued in ``backlog``, so that two
    /// searches in a row (a copytruncate, then a rename seen in the same poll) never queue a file twice.
    var recentlyQueued: [FileIdentity] = []
    static let recentlyQueuedLimit = 16
    /// The predecessor of the next file opened at the name: the newest file with content this stream has read
    /// (or queued), or `.unknown` before the first file, when the rotated names are looked at instead.
    var nextPredecessor: Predecessor = .unknown
    /// The last file read to its end and dropped (a finished rotated file, or a renamed or deleted live file),
    /// at its end: the position while no file is open. Without it a restart in that gap (the name missing
    /// between logrotate's rename and create) would read only the file at the name, and a file written and
    /// rotated before the restart would be skipped whole.
    var finished: FilePosition?

    enum Predecessor {
        case unknown
        case known(FileIdentity?)
    }

    init(index: Int, name: String, fromGlob: Bool, maxLineBytes: Int, now: Int64) {
        self.index = index
        self.name = name
        self.fromGlob = fromGlob
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.lastDataMilliseconds = now
    }

    /// The file being read now: the oldest unfinished rotated file, else the live one.
    var current: TrackedFile? { backlog.first ?? live }

    /// Identity and delivered offset of the file to resume in: the first rotated file of the backlog with
    /// bytes left (a plain one read to its size is done - rotated files do not grow - and may be compressed
    /// before a restart, when an empty one could no longer be recognised), else the live file. With no file
    /// open: the newest file read to its end (a done backlog file, else ``finished``), so that a restart reads
    /// the rotated files newer than it before the file at the name; `nil` only when no file was ever read.
    var position: FilePosition? {
        var anchor = live
        for file in backlog where file.isCompressed || file.currentSize().map({ $0 > file.boundary }) ?? true {
            anchor = file
            break
        }
        guard let file = anchor ?? backlog.last else { return finished }
        return Self.position(of: file)
    }

    /// `file` at its delivered offset.
    static func position(of file: TrackedFile) -> FilePosition {
        FilePosition(identity: file.identity, offset: file.boundary, path: file.path, predecessor: file.predecessor)
    }

    /// Remembers `file`, read to its end and dropped, as ``finished`` (its fingerprint extended first).
    func dropped(_ file: TrackedFile) {
        file.refreshFingerprint()
        finished = Self.position(of: file)
    }

    /// Whether an unfinished line or a detached file waits for the quiet period.
    var waitsForQuietPeriod: Bool {
        if detached { return true }
        guard let file = current else { return false }
        return file.readOffset > file.boundary
    }
}

/// Passes a framer's lines to a ``FollowedLineConsumer`` with the stream index.
///
/// Holds the consumer for the duration of one `poll`: moved in from the caller's `inout` argument and moved
/// back before `poll` returns (``take()``), so it is never copied and the compiler checks the hand-off.
struct StreamLines<C: FollowedLineConsumer>: LineConsumer {
    var consumer: C
    /// The stream whose lines are being framed; set before each stream is read.
    var stream: Int

    @inline(__always)
    mutating func consume(line: UnsafeRawBufferPointer) {
        consumer.consume(stream: stream, line: line)
    }

    /// Ends the poll: the consumer, to move back into the caller's variable.
    consuming func take() -> C { consumer }
}
