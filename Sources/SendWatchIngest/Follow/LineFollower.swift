/// A follower of log streams: what reads them, hands their complete lines to a ``FollowedLineConsumer`` and
/// says where each stream stands. ``LogFollower`` follows files by name through rotation; ``PipeFollower``
/// reads one stream forward (standard input), with no position to save.
///
/// Everything but ``poll(into:)`` is asked at most once per poll or checkpoint, so a caller may ask it through
/// `any LineFollower`; call ``poll(into:)`` on the concrete type, so that the per-line consumer calls inside it
/// are specialized for the consumer.
public protocol LineFollower: AnyObject {
    /// The followed streams, by index.
    var streams: [FollowedStream] { get }
    /// Per stream: the offset after the last delivered line and the bytes not read yet.
    var lag: [FollowedStreamLag] { get }
    /// The positions to checkpoint (none when the input cannot be read again).
    var state: FollowerState { get }
    /// Followed names that have no file now.
    var streamsWithoutFile: Int { get }
    /// Whether no more input can come.
    var ended: Bool { get }

    /// Reads what is available now from every stream and delivers the complete lines; never blocks.
    func poll<C: FollowedLineConsumer>(into consumer: inout C) -> PollReport
    /// Blocks until there may be new data, or `timeoutMilliseconds` passes.
    func wait(timeoutMilliseconds: Int)
}

extension LogFollower: LineFollower {
    /// Always false: files followed by name never end (a missing file may come back).
    public var ended: Bool { false }
}

extension PipeFollower: LineFollower {
    /// No positions: the input cannot be read again, so a restart cannot resume in it.
    public var state: FollowerState { FollowerState() }
    /// Always 0: the stream is the open descriptor, never a name without a file.
    public var streamsWithoutFile: Int { 0 }
}
