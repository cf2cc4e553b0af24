import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a ``TailRun`` reads: files followed by name, or one stream that can only be read forward (standard
/// input, `sendwatch tail -`).
///
/// An enum rather than an `any LineFollower`, so that the per-line consumer calls inside each poll stay
/// specialized; the rest is asked of the follower through ``LineFollower``.
@dynamicMemberLookup
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

    /// Reads what is available now from every stream (see ``LogFollower/poll(into:)``); switches over the two
    /// followers, so that the per-line consumer calls stay specialized.
    func poll<C: FollowedLineConsumer>(into consumer: inout C) -> PollReport {
        switch self {
        case .files(let f): f.poll(into: &consumer)
        case .pipe(let p): p.poll(into: &consumer)
        }
    }

    /// The follower as its role, for what is asked of it once per poll or checkpoint (its streams, lag,
    /// positions, whether it ended) and for waiting.
    var follower: any LineFollower {
        switch self {
        case .files(let f): f
        case .pipe(let p): p
        }
    }

    /// What the follower says of itself (``LineFollower``), e.g. `input.lag`, `input.ended`.
    subscript<Value>(dynamicMember property: KeyPath<any LineFollower, Value>) -> Value {
        follower[keyPath: property]
    }

    /// Blocks until there may be new data or the timeout passes.
    func wait(timeoutMilliseconds: Int) { follower.wait(timeoutMilliseconds: timeoutMilliseconds) }
}
