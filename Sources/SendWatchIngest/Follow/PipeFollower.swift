#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Follows one already open descriptor that can only be read forward (standard input: a pipe, a FIFO, a
/// terminal, or a file redirected in), delivering its complete lines as stream 0 until the writer closes it.
///
/// This is `sendwatch tail -`: `journalctl -f -o short-iso -u postfix | sendwatch tail -` or
/// `tail -F /var/log/mail.log | sendwatch tail -`. Unlike ``LogFollower`` there is no name to follow through
/// rotation and no position to save: what the writer sends is read once, in order. A restart cannot go back
/// to where a previous run stopped; the writer decides what a new run receives.
///
/// The descriptor is never switched to non-blocking mode (it may be shared, e.g. with a terminal): before
/// each `read(2)`, `poll(2)` with no timeout says whether data (or the end) is there, so a poll never blocks.
///
/// Usage:
/// ```swift
/// let input = PipeFollower(descriptor: STDIN_FILENO, name: "-", configuration: FollowConfiguration())
/// while !input.ended {
///     let report = input.poll(into: &parser)
///     if report.linesDelivered == 0 && !report.moreAvailable { input.wait(timeoutMilliseconds: 250) }
/// }
/// ```
///
/// ## Bounds
/// - Memory: one 64 KiB read buffer and a ``LineFramer`` carrying at most
///   ``FollowConfiguration/maxLineBytes``; longer lines are skipped to their `\n` and counted.
/// - Work per poll: at most ``FollowConfiguration/maxBytesPerStreamPerPoll`` bytes
///   (``PollReport/moreAvailable`` says when more may be waiting).
/// - Partial lines: an unfinished last line is delivered when the writer closes the input, or after
///   ``FollowConfiguration/partialLineFlushMilliseconds`` without data (its rest, if it comes later, is a line
///   of its own), as ``LogFollower`` does.
///
/// Not `Sendable`: one task owns it (it owns a buffer and reads the descriptor).
public final class PipeFollower {
    /// The name of the single stream (`-` for standard input), used in logs, metrics and the checkpoint.
    public let name: String
    /// The validated configuration (its partial-line, line-length and per-poll bounds apply).
    public let configuration: FollowConfiguration
    /// Whether the writer closed the input (end of file) or reading failed: nothing more will come.
    public private(set) var ended = false
    /// Bytes read so far.
    public private(set) var bytesRead: Int64 = 0

    private let descriptor: Int32
    private let clock: () -> Int64
    private var framer: LineFramer
    private var lastDataMilliseconds: Int64
    private let buffer: UnsafeMutableRawBufferPointer
    private var pendingDiagnostics: [FollowDiagnostic] = []

    /// Follows `descriptor`, which stays open (the caller owns it).
    ///
    /// - Parameters:
    ///   - descriptor: an open descriptor, e.g. `STDIN_FILENO`.
    ///   - name: the stream's name, e.g. `-`.
    ///   - configuration: bounds; validated here (the fields about files and polling do not apply).
    ///   - clock: a monotonic clock in milliseconds, for the partial-line quiet period (tests inject one).
    /// - Throws: ``IngestError`` `.invalidConfiguration` for a bad configuration.
    public init(
        descriptor: Int32, name: String, configuration: FollowConfiguration = FollowConfiguration(),
        clock: @escaping () -> Int64 = LogFollower.monotonicMilliseconds
    ) throws(IngestError) {
        try configuration.validate()
        self.descriptor = descriptor
        self.name = name
        self.configuration = configuration
        self.clock = clock
        framer = LineFramer(maxLineBytes: configuration.maxLineBytes)
        lastDataMilliseconds = clock()
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    /// The single stream, index 0.
    public var streams: [FollowedStream] { [FollowedStream(index: 0, name: name)] }

    /// The bytes read so far as the stream's offset; nothing is known to be behind.
    public var lag: [FollowedStreamLag] {
        [FollowedStreamLag(stream: 0, name: name, offset: bytesRead, behindBytes: 0)]
    }

    /// Reads what is available now and delivers the complete lines as stream 0; never blocks.
    ///
    /// At the end of the input the last unfinished line is delivered and ``ended`` becomes true.
    ///
    /// - Parameter consumer: receives every line with stream index 0.
    /// - Returns: the lines and bytes of this poll; a failed read is a diagnostic (`read_failed`) and ends the
    ///   input.
    /// - Complexity: O(bytes read), at most ``FollowConfiguration/maxBytesPerStreamPerPoll``.
    public func poll<C: FollowedLineConsumer>(into consumer: inout C) -> PollReport {
        var report = PollReport()
        for diagnostic in pendingDiagnostics { report.add(diagnostic) }
        pendingDiagnostics.removeAll()
        guard !ended else { return report }
        let linesBefore = framer.lines
        let tooLongBefore = framer.linesTooLong
        var budget = configuration.maxBytesPerStreamPerPoll
        var lines = StreamLines(consumer: consume consumer, stream: 0)
        reading: do {
            while budget > 0, readable(timeoutMilliseconds: 0) {
                let n = read(descriptor, buffer.baseAddress, min(buffer.count, budget))
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    let e = errno
                    report.add(
                        FollowDiagnostic(
                            code: .readFailed, stream: 0, path: name,
                            message: "cannot read: \(errnoDescription(e)); the input ends here"))
                    end(lines: &lines)
                    break reading
                }
                if n == 0 {
                    end(lines: &lines)
                    break reading
                }
                bytesRead += Int64(n)
                budget -= n
                lastDataMilliseconds = clock()
                framer.push(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), to: &lines)
            }
            if budget <= 0 {
                report.moreAvailable = true
            } else if framer.hasPartialLine,
                clock() - lastDataMilliseconds >= Int64(configuration.partialLineFlushMilliseconds)
            {
                framer.finish(to: &lines)
                report.partialLinesFlushed += 1
            }
        }
        consumer = lines.take()
        report.bytesRead = bytesRead
        report.linesDelivered = framer.lines - linesBefore
        report.linesTooLong = framer.linesTooLong - tooLongBefore
        return report
    }

    /// Blocks until the input has data or ends, or `timeoutMilliseconds` passes (sooner when a partial line's
    /// quiet period ends). A signal also ends the wait.
    public func wait(timeoutMilliseconds: Int) {
        guard !ended else { return }
        var timeout = max(0, timeoutMilliseconds)
        if framer.hasPartialLine {
            let due = lastDataMilliseconds + Int64(configuration.partialLineFlushMilliseconds) - clock()
            timeout = min(timeout, Int(max(0, min(due, Int64(Int32.max)))))
        }
        _ = readable(timeoutMilliseconds: timeout)
    }

    private func end<C: FollowedLineConsumer>(lines: inout StreamLines<C>) {
        framer.finish(to: &lines)
        ended = true
    }

    /// Whether a `read` would not block (data, end of file or an error is there).
    private func readable(timeoutMilliseconds: Int) -> Bool {
        pollReadable(descriptor, timeoutMilliseconds: timeoutMilliseconds)
    }
}

/// `poll(2)` on one descriptor for input (outside the class, whose `poll(into:)` would hide the C function).
private func pollReadable(_ descriptor: Int32, timeoutMilliseconds: Int) -> Bool {
    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    let n = poll(&entry, 1, Int32(clamping: timeoutMilliseconds))
    return n > 0 && entry.revents != 0
}

@available(*, unavailable)
extension PipeFollower: Sendable {}
