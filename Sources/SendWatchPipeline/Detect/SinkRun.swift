public import Logging
import SendWatchCore
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `write(2)`, named apart from the run's own methods.
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}

/// How a ``SinkRun`` behaves.
public struct SinkOptions: Sendable {
    /// The directory of the checkpoint (`sink-checkpoint`) and its lock; nil: every start writes the whole
    /// stream again.
    public var stateDirectory: String?
    /// Stop once the stream is read to its end.
    public var once = false
    /// Seconds between checkpoints while records flow. Default 1.
    public var checkpointIntervalSeconds: Double = 1
    /// How the stream is fetched from (batch, timeout, backoff while the broker is unreachable).
    public var fetching = FeedFetching()

    /// The defaults above.
    public init() {}
}

/// The body of a sink checkpoint.
struct SinkState: Codable {
    /// The version in the checkpoint header; a checkpoint of another version is refused.
    static let format = 1
    /// The stream sequence of the last record written.
    var lastSequence: UInt64
    /// The output file's size after it (nil for standard output).
    var outputBytes: Int64?
    /// Records written since the state was created.
    var records: Int
}

extension SinkState {
    /// Decodes a sink checkpoint's body, the record count and the output's size checked (``StateCheck``): a
    /// negative size would be cut back to.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lastSequence = try c.decode(UInt64.self, forKey: .lastSequence)
        outputBytes = try c.decodeIfPresent(Int64.self, forKey: .outputBytes)
        if let size = outputBytes {
            try StateCheck.require(
                StateCheck.isCount(size), "sink checkpoint: output size \(size) out of range", decoder)
        }
        records = try c.decodeCount(forKey: .records, "sink checkpoint: records")
    }
}

/// `sendwatch sink`: writes the records of a stream (the alerts stream) as JSON lines, exactly once into a
/// file.
///
/// The checkpoint holds the last stream sequence written and the file's size after it, written after the file
/// was synced; the broker is told the records are done with after that. A restart cuts the file back to the
/// checkpoint's size (records written after it, by a run that was killed, go) and reads again from the next
/// sequence, so each record is in the file once. A file found shorter than the checkpoint says (rotated away,
/// or truncated by hand) is appended to as it is, with a warning. Standard output has no size to go back to:
/// there a restart repeats the records since the last checkpoint.
///
/// Memory: one fetch's records.
public final class SinkRun<Feed: StreamFeed> {
    /// How the run behaves.
    public let options: SinkOptions
    /// Where records come from.
    public var feed: Feed
    /// Records written since the state was created.
    public private(set) var records = 0
    /// The stream sequence of the last record written.
    public private(set) var lastSequence: UInt64 = 0
    /// The figures `--metrics` serves, updated once per fetch.
    public let metrics = SinkMetrics()
    /// Acknowledgements of the consumer, and checkpoints, this run.
    private var acknowledgements = 0
    private var checkpoints = 0
    private let logger: Logger
    private let lock: StateDirectoryLock?
    private let output: String?
    private let fd: Int32
    private var outputBytes: Int64 = 0
    private var fetcher: FeedFetcher

    /// Opens the output (creating it) and loads the checkpoint, cutting the output back to its size.
    ///
    /// - Parameter output: the file to append to; nil for standard output.
    /// - Throws: ``TailError`` for a state directory or output that cannot be used, or a damaged or
    ///   incompatible checkpoint.
    public init(output: String?, options: SinkOptions, feed: Feed, logger: Logger) throws(TailError) {
        self.options = options
        self.feed = feed
        self.logger = logger
        self.output = output
        fetcher = FeedFetcher(
            fetching: options.fetching, logger: logger, outageMessage: "the broker is unreachable; retrying",
            reasonKey: "sink.reason", streamName: "alerts stream")
        lock = try StateDirectory.prepare(options.stateDirectory)
        let saved = try options.stateDirectory.flatMap { dir throws(TailError) in
            try StateDirectory.readCheckpoint(
                SinkState.self, path: dir + "/sink-checkpoint", format: SinkState.format, name: "sink checkpoint",
                damagedAdvice: "Move the file away to write the whole stream again.",
                incompatibleAdvice: "Move it away to write the whole stream again.")?.state
        }
        if let output {
            (fd, outputBytes) = try Self.openOutput(output, keeping: saved?.outputBytes, logger: logger)
        } else {
            fd = 1
        }
        if let saved {
            lastSequence = saved.lastSequence
            records = saved.records
        }
        if output != nil && options.stateDirectory != nil && saved?.outputBytes == nil {
            // A first start into a file (or the first after runs to standard output) writes a checkpoint before
            // any record: the file's size now. Without it a run killed before its first checkpoint left records
            // that its restart (nothing to cut back to) wrote again after them (the fleet's chaos test found 52
            // records twice).
            try writeState()
        }
    }

    deinit {
        // The one place the output is closed: every property is set once the output is open, so a later throw
        // of the initializer ends here too (a close on its own path as well closed the descriptor twice).
        if output != nil { close(fd) }
    }

    /// Opens `output` for writing (creating it), cut back to `kept` bytes when it is longer (records written after
    /// the last checkpoint), positioned at its end. On failure the descriptor is closed here and the run never
    /// holds it.
    ///
    /// - Returns: the descriptor and the file's size.
    /// - Throws: ``TailError`` `output_unusable`.
    private static func openOutput(_ output: String, keeping kept: Int64?, logger: Logger) throws(TailError)
        -> (fd: Int32, bytes: Int64)
    {
        let fd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let e = errno
            throw TailError(
                code: .outputUnusable, message: "cannot open \(output): \(errnoDescription(e))", path: output,
                underlyingErrno: e)
        }
        var st = stat()
        fstat(fd, &st)
        var bytes = Int64(st.st_size)
        if let kept {
            if bytes > kept {
                // Written by a run that stopped before its checkpoint: the restart writes them again.
                guard ftruncate(fd, off_t(kept)) == 0 else {
                    let e = errno
                    close(fd)
                    throw TailError(
                        code: .outputUnusable,
                        message: "cannot cut \(output) back to \(kept) bytes: " + errnoDescription(e), path: output,
                        underlyingErrno: e)
                }
                logger.info(
                    "cut \(output) back from \(bytes) to \(kept) bytes, its size at the last checkpoint: the records written after it are written again"
                )
                bytes = kept
            } else if bytes < kept {
                logger.warning("\(output) is shorter than the checkpoint says (rotated or truncated); appending to it")
            }
        }
        lseek(fd, off_t(bytes), SEEK_SET)
        return (fd, bytes)
    }

    /// Runs until `shouldStop` returns true or (``SinkOptions/once``) the stream is read to its end.
    ///
    /// - Throws: ``TailError`` `consume_failed`, `output_failed` or `checkpoint_failed`.
    public func run(now: () -> Double = TailRun.monotonicSeconds, shouldStop: () -> Bool) throws(TailError) {
        feed.resume(after: lastSequence)
        var lastCheckpoint = now()
        var dirty = false
        var buffer: [UInt8] = []
        while !shouldStop() {
            guard case .messages(let messages, let caughtUp) = try fetcher.next(from: &feed) else {
                publishMetrics()
                continue
            }
            buffer.removeAll(keepingCapacity: true)
            for m in messages where m.sequence > lastSequence {
                lastSequence = m.sequence
                buffer += m.payload
                buffer.append(UInt8(ascii: "\n"))
                records += 1
                dirty = true
            }
            try append(buffer)
            let t = now()
            if dirty && (t - lastCheckpoint >= options.checkpointIntervalSeconds || (options.once && caughtUp)) {
                try checkpoint()
                lastCheckpoint = t
                dirty = false
            }
            publishMetrics()
            if options.once && caughtUp { break }
        }
        if dirty { try checkpoint() }
        publishMetrics()
    }

    /// Replaces the metrics' snapshot.
    private func publishMetrics() {
        let consumer = fetcher.figures(of: feed, lastSequence: lastSequence, acknowledgements: acknowledgements)
        let (records, bytes, retries, checkpoints) = (
            records, output == nil ? 0 : outputBytes, fetcher.retries, checkpoints
        )
        metrics.update { m in
            m.consumer = consumer
            m.records = records
            m.outputBytes = bytes
            m.retries = retries
            m.checkpoints = checkpoints
        }
    }

    private func append(_ bytes: [UInt8]) throws(TailError) {
        var done = 0
        while done < bytes.count {
            // Safe to force unwrap: `bytes` is not empty here (done < count).
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                throw TailError(
                    code: .outputFailed, message: "cannot write \(output ?? "standard output"): \(errnoDescription(e))",
                    path: output, underlyingErrno: e)
            }
            done += n
        }
        outputBytes += Int64(bytes.count)
    }

    /// Syncs the output, writes the checkpoint (last sequence, output size), then tells the broker.
    public func checkpoint() throws(TailError) {
        if options.stateDirectory != nil {
            if output != nil && fsync(fd) != 0 {
                let e = errno
                throw TailError(
                    code: .outputFailed, message: "cannot sync \(output ?? ""): \(errnoDescription(e))", path: output,
                    underlyingErrno: e)
            }
            try writeState()
            checkpoints += 1
        }
        if feed.acknowledgeFetched() { acknowledgements += 1 }
    }

    /// Writes the checkpoint file (last sequence, output size, records) into the state directory, if there is one.
    private func writeState() throws(TailError) {
        guard let dir = options.stateDirectory else { return }
        let state = SinkState(
            lastSequence: lastSequence, outputBytes: output == nil ? nil : outputBytes, records: records)
        let sequence = lastSequence
        try StateDirectory.writeCheckpoint(
            state, path: dir + "/sink-checkpoint", kind: "sendwatch_sink_checkpoint", format: SinkState.format
        ) { header in
            header.key("last_sequence"); header.int64(Int64(clamping: sequence))
        }
    }

    /// Summary for stderr at the end.
    public var summaryText: String {
        "sendwatch sink (totals since the state was created): \(records) records written, last stream sequence "
            + "\(lastSequence)"
    }
}

@available(*, unavailable)
extension SinkRun: Sendable {}
