/// Receives the lines a ``LogFollower`` reads, tagged with their stream.
public protocol FollowedLineConsumer {
    /// Handles one line of stream `stream`, without its `\n` or `\r\n`. May be empty.
    ///
    /// - Parameters:
    ///   - stream: the stream's index (see ``LogFollower/streams``).
    ///   - line: the line's bytes; valid only until this call returns.
    mutating func consume(stream: Int, line: UnsafeRawBufferPointer)
}

/// One followed stream: its index and its name.
public struct FollowedStream: Sendable, Equatable {
    /// The index passed to ``FollowedLineConsumer/consume(stream:line:)``: a small integer that stays the same
    /// while the stream is followed. A retired stream's index may later be given to a new name.
    public var index: Int
    /// The followed name (a path as given, or a glob's match); the stable key for per-stream parser state.
    public var name: String

    /// Creates a stream description.
    public init(index: Int, name: String) {
        self.index = index
        self.name = name
    }
}

/// How far one stream is behind its file, for metrics.
public struct FollowedStreamLag: Sendable, Equatable {
    /// The stream index.
    public var stream: Int
    /// The stream's name.
    public var name: String
    /// The offset after the last delivered line in the file being read (decompressed bytes).
    public var offset: Int64
    /// Bytes written but not yet delivered: the plain files' sizes minus the offsets (a compressed
    /// predecessor's unread part is not known without decompressing it and is not counted).
    public var behindBytes: Int64
}

/// Something a ``LogFollower`` wants an operator to know: a value, never printed or logged by the follower.
public struct FollowDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// A bounded snake_case code, for counting. An open set.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The name is a directory, FIFO, device or socket; it is skipped until a regular file is there.
        public static let notARegularFile = Code(rawValue: "not_a_regular_file")
        /// A file could not be opened (permission, too many open files, ...); retried on every poll.
        public static let openFailed = Code(rawValue: "open_failed")
        /// Reading a file failed (I/O error, damaged compressed predecessor); the rest of that file is skipped.
        public static let readFailed = Code(rawValue: "read_failed")
        /// The file of a saved position is no longer at its name nor among its rotated names: the name's
        /// current file is read from offset 0, and unread bytes of the lost file (if any) are lost.
        public static let savedFileNotFound = Code(rawValue: "saved_file_not_found")
        /// A file was truncated with bytes not yet read, and no copy with those bytes was found.
        public static let truncatedDataLost = Code(rawValue: "truncated_data_lost")
        /// More names matched than ``FollowConfiguration/maxStreams``; the extra ones are not followed.
        public static let streamLimitReached = Code(rawValue: "stream_limit_reached")
        /// More rotated files than are read between a saved position and the current file; older ones skipped.
        public static let rotatedFilesSkipped = Code(rawValue: "rotated_files_skipped")
        /// At a rotation, the file just finished is at none of the rotated names (a later rotation removed it
        /// while it was being read), and rotated files written after it are there: those were not read.
        public static let rotatedFilesUnread = Code(rawValue: "rotated_files_unread")
        /// A saved stream's name matches none of the patterns any more; its position is dropped.
        public static let savedStreamDropped = Code(rawValue: "saved_stream_dropped")
        /// A followed name has no file (it does not exist, or is a link to nothing) and never had one in this
        /// run: the follower waits for it to appear, reading it from its start when it does. Reported once.
        public static let pathMissing = Code(rawValue: "path_missing")
        /// A glob matches no file at start-up (its directory may not exist either): the follower waits for a
        /// match. Reported once.
        public static let nothingMatches = Code(rawValue: "nothing_matches")
        /// At a first start that reads from the start: a glob also matches rotated files, which are not
        /// followed and so not read. Reported once per glob.
        public static let rotatedMatchesNotRead = Code(rawValue: "rotated_matches_not_read")
        /// A name leads to a file already followed under another name (or is given twice): it is not followed
        /// a second time. Reported once per name.
        public static let sameFileTwice = Code(rawValue: "same_file_twice")
        /// inotify could not be set up; the follower polls.
        public static let watchUnavailable = Code(rawValue: "watch_unavailable")

        // Decisions (``PollReport/decisions``): what the follower did, for logs at debug level.

        /// A file was opened at a stream's name (first start, after a rotation, or once the name appeared).
        public static let fileOpened = Code(rawValue: "file_opened")
        /// The name points at another file (rotation): the old file was finished where it was.
        public static let fileSwitched = Code(rawValue: "file_switched")
        /// Rotated (or copied) files were queued to be read, oldest first, before the name's file.
        public static let rotatedFilesQueued = Code(rawValue: "rotated_files_queued")
        /// A saved position was found again, at the name or among the rotated names.
        public static let positionResumed = Code(rawValue: "position_resumed")
        /// The rotated names changed while they were searched (a rotation ran at that moment): searched again.
        public static let rotatedNamesChanged = Code(rawValue: "rotated_names_changed")
    }

    /// What happened.
    public var code: Code
    /// The stream concerned, if any.
    public var stream: Int?
    /// The path concerned.
    public var path: String
    /// What happened and what follows from it, in words.
    public var message: String

    /// Creates a diagnostic.
    public init(code: Code, stream: Int?, path: String, message: String) {
        self.code = code
        self.stream = stream
        self.path = path
        self.message = message
    }

    /// `follow (code): path: message`.
    public var description: String { "follow (\(code)): \(path): \(message)" }
}

/// What one ``LogFollower/poll(into:)`` did.
public struct PollReport: Sendable, Equatable {
    /// At most this many diagnostics are kept per report; more are counted in ``diagnosticsDropped``.
    public static let maxDiagnostics = 64

    /// Bytes read from files (decompressed), including skipped ones.
    public var bytesRead: Int64 = 0
    /// Lines delivered to the consumer.
    public var linesDelivered: Int = 0
    /// Lines skipped for being longer than ``FollowConfiguration/maxLineBytes``.
    public var linesTooLong: Int = 0
    /// Unfinished lines delivered after the quiet period, or at the end of a finished (rotated) file.
    public var partialLinesFlushed: Int = 0
    /// Switches to a new file at a stream's name (rename + create, delete + recreate).
    public var rotations: Int = 0
    /// Files found shorter than already read, or rewritten from the start (copytruncate, truncate).
    public var truncations: Int = 0
    /// Streams created by this poll (new glob matches).
    public var streamsOpened: [Int] = []
    /// Streams removed by this poll (a glob match that is gone and fully read, and whose name stayed without a
    /// file for the quiet period after its file was closed); their indices may be reused.
    public var streamsRetired: [Int] = []
    /// Names that matched a pattern in this poll but are not followed because of
    /// ``FollowConfiguration/maxStreams``.
    public var streamsOverLimit: Int = 0
    /// Whether some stream stopped at ``FollowConfiguration/maxBytesPerStreamPerPoll``: poll again soon.
    public var moreAvailable: Bool = false
    /// Diagnostics, each reported once per change of situation, at most ``maxDiagnostics``.
    public var diagnostics: [FollowDiagnostic] = []
    /// Diagnostics not kept because of ``maxDiagnostics``.
    public var diagnosticsDropped: Int = 0
    /// What the follower did with files in this poll (opened, switched, queued, resumed, searched again), for
    /// logs at debug level; nothing an operator must act on. At most ``maxDiagnostics``; more are counted in
    /// ``decisionsDropped``.
    public var decisions: [FollowDiagnostic] = []
    /// Decisions not kept because of ``maxDiagnostics``.
    public var decisionsDropped: Int = 0

    /// Creates an empty report.
    public init() {}

    mutating func add(_ diagnostic: FollowDiagnostic) {
        if diagnostics.count < Self.maxDiagnostics {
            diagnostics.append(diagnostic)
        } else {
            diagnosticsDropped += 1
        }
    }

    mutating func decided(_ code: FollowDiagnostic.Code, stream: Int, path: String, _ message: String) {
        if decisions.count < Self.maxDiagnostics {
            decisions.append(FollowDiagnostic(code: code, stream: stream, path: path, message: message))
        } else {
            decisionsDropped += 1
        }
    }
}
