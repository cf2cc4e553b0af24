/// How a ``LogFollower`` watches, reads and bounds its streams.
///
/// Every field has a default; ``validate()`` reports every out-of-range value at once before anything is opened.
///
/// Usage:
/// ```swift
/// var configuration = FollowConfiguration()
/// configuration.startAtEnd = false        // --from-start
/// try configuration.validate()
/// ```
public struct FollowConfiguration: Sendable, Equatable {
    /// How often, in milliseconds, ``LogFollower/wait(timeoutMilliseconds:)`` returns when inotify is not used
    /// (forced polling, no inotify, or a directory that cannot be watched yet). Default 250; 1...60 000.
    public var pollIntervalMilliseconds: Int
    /// Forces polling instead of inotify (e.g. for NFS, where inotify sees no remote writes). Default `false`.
    public var usePolling: Bool
    /// How long, in milliseconds of the injected clock, an unfinished last line waits for its `\n` before it is
    /// delivered as a line anyway; also how long a renamed or deleted file is still drained after its last
    /// write before it is closed. Default 5000; 0 delivers a partial line at once. 0...86 400 000.
    public var partialLineFlushMilliseconds: Int
    /// The longest line, in bytes before its `\n`, that is delivered; longer lines are skipped up to the next
    /// `\n` and counted (``LineFramer`` semantics). Default 64 KiB; 1...64 MiB.
    public var maxLineBytes: Int
    /// The most streams (followed names) at once; further glob matches are not followed and are counted in
    /// ``PollReport/streamsOverLimit``. Default 64; 1...4096.
    public var maxStreams: Int
    /// With no saved state: start every file present at start at its current end (after its last complete
    /// line), like `tail -F -n 0` (`true`, the default), or at offset 0 (`false`, `--from-start`). Files that
    /// appear later, and files with a saved position, ignore this.
    public var startAtEnd: Bool
    /// The most bytes read from one stream in one ``LogFollower/poll(into:)``; when hit, the report says
    /// ``PollReport/moreAvailable`` and the next poll goes on. Default 8 MiB; 64 KiB...1 GiB.
    public var maxBytesPerStreamPerPoll: Int
    /// How the `rotated_matches_not_read` diagnostic tells the user to get the lines of a glob's rotated matches,
    /// which are not followed: the end of "to have their lines, …". Default "read them first with sendwatch
    /// replay" (for `tail`); `ship` names its own one-pass run. Text only; not validated.
    public var rotatedFilesAdvice: String

    /// Creates a configuration; every parameter defaults to the value documented on its field.
    public init(
        pollIntervalMilliseconds: Int = 250,
        usePolling: Bool = false,
        partialLineFlushMilliseconds: Int = 5000,
        maxLineBytes: Int = 64 * 1024,
        maxStreams: Int = 64,
        startAtEnd: Bool = true,
        maxBytesPerStreamPerPoll: Int = 8 * 1024 * 1024,
        rotatedFilesAdvice: String = "read them first with sendwatch replay"
    ) {
        self.pollIntervalMilliseconds = pollIntervalMilliseconds
        self.usePolling = usePolling
        self.partialLineFlushMilliseconds = partialLineFlushMilliseconds
        self.maxLineBytes = maxLineBytes
        self.maxStreams = maxStreams
        self.startAtEnd = startAtEnd
        self.maxBytesPerStreamPerPoll = maxBytesPerStreamPerPoll
        self.rotatedFilesAdvice = rotatedFilesAdvice
    }

    /// Checks every field's range and reports all problems in one error.
    ///
    /// - Throws: ``IngestError`` with code `.invalidConfiguration`, listing each bad field and its range.
    public func validate() throws(IngestError) {
        var problems: [String] = []
        func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                problems.append("\(name) = \(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
        }
        check("pollIntervalMilliseconds", pollIntervalMilliseconds, 1...60_000)
        check("partialLineFlushMilliseconds", partialLineFlushMilliseconds, 0...86_400_000)
        check("maxLineBytes", maxLineBytes, 1...(64 * 1024 * 1024))
        check("maxStreams", maxStreams, 1...4096)
        check("maxBytesPerStreamPerPoll", maxBytesPerStreamPerPoll, (64 * 1024)...(1024 * 1024 * 1024))
        if !problems.isEmpty {
            throw IngestError(
                code: .invalidConfiguration, message: problems.joined(separator: "; "), path: "follow configuration")
        }
    }
}
