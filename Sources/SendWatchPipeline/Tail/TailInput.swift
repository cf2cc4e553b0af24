import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a ``TailRun`` reads: files followed by name, or one stream that can only be read forward (standard
/// input, `sendwatch tail -`).
///
/// An enum rather than a protocol, so that the per-line consumer calls inside each poll stay specialized.
enum TailInput {
    /// Files and globs, followed through rotation; positions are checkpointed.
    case files(LogFollower)
    /// Standard input: read once, in order, until it ends; there is no position to checkpoint.
    case pipe(PipeFollower)

    /// The pattern that means standard input.
    static let standardInputName = "-"

    /// Standard input when `patterns` is `["-"]`, else the files and globs (resuming at `saved`).
    ///
    /// - Throws: ``IngestError`` when the follower cannot start, or `-` is given with files.
    static func open(
        patterns: [String], configuration: FollowConfiguration, restoring saved: FollowerState?
    ) throws(IngestError) -> TailInput {
        if patterns == [standardInputName] {
            return .pipe(
                try PipeFollower(descriptor: STDIN_FILENO, name: standardInputName, configuration: configuration))
        }
        if patterns.contains(standardInputName) {
            throw IngestError(
                code: .invalidConfiguration,
                message: "'-' (standard input) cannot be followed together with files; run one process for each",
                path: "follow patterns")
        }
        return .files(try LogFollower(patterns: patterns, configuration: configuration, restoring: saved))
    }

    /// Reads what is available now from every stream (see ``LogFollower/poll(into:)``).
    func poll<C: FollowedLineConsumer>(into consumer: inout C) -> PollReport {
        switch self {
        case .files(let f): f.poll(into: &consumer)
        case .pipe(let p): p.poll(into: &consumer)
        }
    }

    /// Blocks until there may be new data or the timeout passes.
    func wait(timeoutMilliseconds: Int) {
        switch self {
        case .files(let f): f.wait(timeoutMilliseconds: timeoutMilliseconds)
        case .pipe(let p): p.wait(timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Whether no more input can come (standard input was closed); files never end.
    var ended: Bool {
        switch self {
        case .files: false
        case .pipe(let p): p.ended
        }
    }

    /// The followed streams, by index.
    var streams: [FollowedStream] {
        switch self {
        case .files(let f): f.streams
        case .pipe(let p): p.streams
        }
    }

    /// The positions to checkpoint; none for standard input (it cannot be read again).
    var state: FollowerState {
        switch self {
        case .files(let f): f.state
        case .pipe: FollowerState()
        }
    }

    /// Per stream: the offset read and the bytes behind.
    var lag: [FollowedStreamLag] {
        switch self {
        case .files(let f): f.lag
        case .pipe(let p): p.lag
        }
    }

    /// Followed names that have no file now (never one for standard input).
    var streamsWithoutFile: Int {
        switch self {
        case .files(let f): f.streamsWithoutFile
        case .pipe: 0
        }
    }
}
