public import Logging
public import SendWatchCore
import SendWatchIngest

/// What reading the last message of a subject gave (``StateMessageStore/last(subject:)``).
public enum StateMessageRead: Sendable, Equatable {
    /// The subject's last message: its stream sequence and body.
    case message(sequence: UInt64, body: [UInt8])
    /// The subject holds no message.
    case missing
    /// The store cannot be reached; reading again later is safe. The text says why.
    case unavailable(String)
}

/// What a publish to the state stream gave (``StateMessageStore/publish(subject:body:expectedLastSequence:)``).
public enum StateMessageWrite: Sendable, Equatable {
    /// Stored at this stream sequence.
    case written(sequence: UInt64)
    /// Refused because the subject's last message is not the one expected (another writer wrote it since).
    case conflict(String)
    /// The store cannot be reached or did not answer: whether the message was stored is unknown.
    case unavailable(String)
    /// Refused for another reason (a size limit, no stream): trying again would not help.
    case refused(String)
}

/// The few operations ``ChunkedCheckpointStore`` needs of a stream that keeps one message per subject: a JetStream
/// stream (`NATSStateMessages` of SendWatchFleet) or a test double. Called on the owner's thread only.
public protocol StateMessageStore {
    /// The last message on `subject`.
    mutating func last(subject: String) -> StateMessageRead
    /// Stores `body` on `subject`; with `expectedLastSequence`, only if the subject's last message has that
    /// stream sequence (0: only if the subject holds none).
    mutating func publish(subject: String, body: [UInt8], expectedLastSequence: UInt64?) -> StateMessageWrite
    /// Removes the messages on subjects matching `filter` (a subject with a trailing `>`) whose stream sequence is
    /// below `sequence`. False when the store could not be told (harmless: the next call removes them).
    mutating func purge(filter: String, below sequence: UInt64) -> Bool
}

/// A checkpoint read back from a ``ChunkedCheckpointStore``.
public struct StoredCheckpoint: Sendable, Equatable {
    /// The state format its writer named.
    public var format: Int
    /// The checkpoint's body, complete and checked.
    public var body: [UInt8]
    /// The consumer position it covers (the stream sequence of the last event taken in).
    public var lastSequence: UInt64
    /// Where it came from, for messages (`<subject root> generation <tenure>.<n>`).
    public var origin: String
}

/// How ``ChunkedCheckpointStore/claim()`` ended.
public enum StateClaim: Sendable, Equatable {
    /// This writer owns the store now; the last committed checkpoint (nil: there is none).
    case claimed(StoredCheckpoint?)
    /// Another writer wrote the manifest between this one's read and its claim: claim again.
    case taken
    /// The store cannot be reached; claim again later. The text says why.
    case unavailable(String)
}

/// How ``ChunkedCheckpointStore/commit(body:format:lastSequence:alertRecords:)`` ended.
public enum StateCommit: Sendable, Equatable {
    /// The checkpoint is the store's latest.
    case committed
    /// Refused: another writer claimed the store since this one did (it lost its lease). Nothing of this
    /// writer's was made visible; it must stop writing.
    case fenced(String)
    /// The store cannot be reached; the previous checkpoint stays the latest (the chunks written are orphans the
    /// next commit removes). Commit again later. The text says why.
    case unavailable(String)
}

/// The checkpoint of `sendwatch detect` kept in a JetStream stream that holds one message per subject, so that a
/// worker on any machine can resume it and the store itself refuses a write from a writer that lost its lease
/// (docs/fleet.md, "Checkpoints in JetStream").
///
/// Layout under the subject root `R` (e.g. `sendwatch.state.SENDWATCH_STATE.sendwatch-detect`):
/// - `R.chunk.<tenure>.<generation>.<i>`: piece `i` of a checkpoint, at most ``chunkBytes`` of the body after an
///   8-byte prefix (the piece's CRC-32 and its index, little-endian). `tenure` is a random number drawn by each
///   ``claim()``, so two writers never write the same subjects.
/// - `R.manifest`: one line of JSON naming the committed generation, its piece count, its size, the CRC-32 of the
///   whole body, the consumer position and the writer's tenure. It is only ever written with the stream's
///   expected-last-sequence check against the manifest this writer last wrote (or read, when claiming).
///
/// A commit writes every piece of a new generation first, then the manifest: a reader only follows the manifest,
/// so it sees the previous checkpoint until the new one is complete (a torn write leaves orphan pieces, removed
/// by the next commit). Fencing: a new writer's ``claim()`` rewrites the manifest (checked against the one it
/// read), so a commit of the writer before it, checked against that writer's own last manifest, is refused by
/// the server. After a commit, every message under `R` older than the new generation's first piece is purged.
///
/// Bounds: pieces of ``chunkBytes`` (512 KiB, under the server's default 1 MiB message limit); at most
/// ``defaultMaxChunks`` (2,048) pieces, so 1 GiB per checkpoint; a larger one is refused with `checkpoint_failed`.
public final class ChunkedCheckpointStore {
    /// Bytes of the body in one piece.
    public static let chunkBytes = 512 * 1024
    /// The state format of the checkpoints `detect` writes (it also reads format 5, and refuses a manifest naming
    /// another).
    public static var stateFormat: Int { DetectState.format }
    /// Most pieces of one checkpoint, by default.
    public static let defaultMaxChunks = 2048
    /// Most pieces of one checkpoint of this store (``defaultMaxChunks`` unless a test says otherwise).
    public let maxChunks: Int
    /// Largest checkpoint body: ``chunkBytes`` × ``maxChunks`` (1 GiB by default).
    public var maxBodyBytes: Int { Self.chunkBytes * maxChunks }
    /// Bytes before the body's bytes in each piece: its CRC-32, then its index (both little-endian `UInt32`).
    static let chunkPrefixBytes = 8

    /// The subject root of this store's messages.
    public let root: String
    /// The writer's name, written into the manifest for operators (`host pid …`).
    public let holder: String
    /// The stream, for messages (its name).
    public let streamName: String
    private var messages: any StateMessageStore
    private let logger: Logger
    /// This writer's tenure (0 before a claim).
    public private(set) var tenure: UInt64 = 0
    /// Generations committed or tried by this tenure.
    private var generation: UInt64 = 0
    /// The stream sequence of the manifest this writer last wrote.
    private var manifestSequence: UInt64 = 0
    /// Whether the last manifest write's outcome is unknown (its acknowledgement did not come).
    private var uncertain = false

    /// A store under `root` of the stream `streamName` reached through `messages`, checkpoints of at most
    /// `maxChunks` pieces.
    public init(
        messages: any StateMessageStore, streamName: String, root: String, holder: String,
        maxChunks: Int = ChunkedCheckpointStore.defaultMaxChunks, logger: Logger
    ) {
        self.maxChunks = max(1, min(maxChunks, Self.defaultMaxChunks))
        self.messages = messages
        self.streamName = streamName
        self.root = root
        self.holder = holder
        self.logger = logger
    }

    /// The manifest's subject.
    public var manifestSubject: String { root + ".manifest" }

    /// The subject of piece `index` of generation `generation` written by `tenure`.
    public func chunkSubject(tenure: UInt64, generation: UInt64, index: Int) -> String {
        "\(root).chunk.\(tenure).\(generation).\(index)"
    }

    /// Makes this writer the store's only writer (the one a lease holder calls once it holds the lease) and reads
    /// the last committed checkpoint. From here on, a commit of any earlier writer is refused.
    ///
    /// - Throws: ``TailError`` `checkpoint_damaged` (a manifest that does not parse, a missing or damaged piece,
    ///   the body's size or CRC not the manifest's) or `checkpoint_incompatible` (another state format); each
    ///   message says how to start over.
    public func claim() throws(TailError) -> StateClaim {
        var manifest: Manifest?
        var expected: UInt64 = 0
        switch messages.last(subject: manifestSubject) {
        case .unavailable(let why): return .unavailable(why)
        case .missing: break
        case .message(let sequence, let body):
            expected = sequence
            guard let parsed = Manifest(parsing: body) else {
                throw damaged("its manifest (\(manifestSubject), stream sequence \(sequence)) does not parse")
            }
            manifest = parsed
        }
        var newTenure: UInt64 = 0
        while newTenure == 0 || newTenure == manifest?.tenure { newTenure = UInt64.random(in: 1..<(1 << 53)) }
        let claimed = (manifest ?? Manifest()).claimed(by: newTenure)
        switch messages.publish(
            subject: manifestSubject, body: claimed.encoded(holder: holder), expectedLastSequence: expected)
        {
        case .written(let sequence):
            tenure = newTenure
            generation = 0
            manifestSequence = sequence
            uncertain = false
        case .conflict: return .taken
        case .unavailable(let why): return .unavailable(why)
        case .refused(let why):
            throw TailError(
                code: .checkpointFailed, message: "the state stream \(streamName) refused the manifest: \(why)")
        }
        guard let manifest, manifest.chunks > 0 else { return .claimed(nil) }
        return try read(manifest)
    }

    /// Writes `body` as a new generation and commits it by one manifest write checked against this writer's
    /// last one. Removes older generations after the commit.
    ///
    /// - Throws: ``TailError`` `checkpoint_failed` for a body larger than ``maxBodyBytes`` or a write the server
    ///   refused (a message larger than its `max_payload`, ...); the previous checkpoint stays the latest.
    public func commit(body: [UInt8], format: Int, lastSequence: UInt64, alertRecords: Int) throws(TailError)
        -> StateCommit
    {
        precondition(tenure != 0, "commit before claim")
        guard body.count <= maxBodyBytes else {
            throw TailError(
                code: .checkpointFailed,
                message: "the detect checkpoint is \(body.count) bytes, more than the state store's limit of "
                    + "\(maxBodyBytes) bytes (\(maxChunks) pieces of \(Self.chunkBytes)); the previous "
                    + "checkpoint stays the latest. Lower detect.memory_budget, or use --state-store file.")
        }
        generation += 1
        let count = (body.count + Self.chunkBytes - 1) / Self.chunkBytes
        var firstSequence: UInt64 = 0
        var piece: [UInt8] = []
        piece.reserveCapacity(Self.chunkPrefixBytes + Self.chunkBytes)
        for index in 0..<count {
            let range = (index * Self.chunkBytes)..<min(body.count, (index + 1) * Self.chunkBytes)
            piece.removeAll(keepingCapacity: true)
            let crc = body[range].withUnsafeBytes { crc32($0) }
            appendLittleEndian(crc, to: &piece)
            appendLittleEndian(UInt32(index), to: &piece)
            piece.append(contentsOf: body[range])
            let subject = chunkSubject(tenure: tenure, generation: generation, index: index)
            switch messages.publish(subject: subject, body: piece, expectedLastSequence: nil) {
            case .written(let sequence): if index == 0 { firstSequence = sequence }
            case .unavailable(let why): return .unavailable(why)
            case .conflict(let why), .refused(let why):
                throw TailError(
                    code: .checkpointFailed,
                    message: "the state stream \(streamName) refused piece \(index) of the checkpoint (\(why)); the "
                        + "previous checkpoint stays the latest")
            }
        }
        if uncertain {
            // The last manifest write may have been stored: if it was, the manifest is this tenure's.
            switch messages.last(subject: manifestSubject) {
            case .unavailable(let why): return .unavailable(why)
            case .missing:
                return fenced("the manifest is gone")
            case .message(let sequence, let bytes):
                guard let found = Manifest(parsing: bytes), found.tenure == tenure else {
                    return fenced("the manifest was written by another writer")
                }
                manifestSequence = sequence
                uncertain = false
            }
        }
        let manifest = Manifest(
            tenure: tenure, chunkTenure: tenure, generation: generation, chunks: count, bodyBytes: body.count,
            bodyCRC: body.withUnsafeBytes { crc32($0) }, format: format, lastSequence: lastSequence,
            alertRecords: alertRecords)
        switch messages.publish(
            subject: manifestSubject, body: manifest.encoded(holder: holder), expectedLastSequence: manifestSequence)
        {
        case .written(let sequence):
            manifestSequence = sequence
        case .conflict(let why):
            return fenced(why)
        case .unavailable(let why):
            uncertain = true
            return .unavailable(why)
        case .refused(let why):
            throw TailError(
                code: .checkpointFailed, message: "the state stream \(streamName) refused the manifest: \(why)")
        }
        // Older generations (and pieces of torn writes) are all below the new generation's first piece.
        _ = messages.purge(filter: root + ".>", below: firstSequence)
        return .committed
    }

    private func fenced(_ why: String) -> StateCommit {
        let text =
            "the state store refused this worker's checkpoint: another worker claimed \(manifestSubject) since "
            + "(this one lost its lease); stopping without writing more state"
        logger.error("\(text)", metadata: ["detect.reason": "\(why)"])
        return .fenced(why)
    }

    /// Reads and checks every piece `manifest` names.
    private func read(_ manifest: Manifest) throws(TailError) -> StateClaim {
        let origin = "\(root) generation \(manifest.chunkTenure).\(manifest.generation)"
        guard DetectState.readFormats.contains(manifest.format) else {
            let reads = DetectState.readFormats.map(String.init).joined(separator: " or ")
            throw TailError(
                code: .checkpointIncompatible,
                message: "the detect checkpoint in \(streamName) (\(origin)) has state format \(manifest.format); "
                    + "this SendWatch reads format \(reads). Run the version that wrote it, or "
                    + "purge it to start over: \(purgeAdvice)")
        }
        guard manifest.chunks <= Self.defaultMaxChunks,
            manifest.chunks == (manifest.bodyBytes + Self.chunkBytes - 1) / Self.chunkBytes
        else {
            throw damaged("its manifest names \(manifest.chunks) pieces for \(manifest.bodyBytes) bytes")
        }
        var body: [UInt8] = []
        body.reserveCapacity(manifest.bodyBytes)
        for index in 0..<manifest.chunks {
            let subject = chunkSubject(tenure: manifest.chunkTenure, generation: manifest.generation, index: index)
            switch messages.last(subject: subject) {
            case .unavailable(let why): return .unavailable(why)
            case .missing: throw damaged("piece \(index) of \(manifest.chunks) (\(subject)) is missing")
            case .message(_, let piece):
                let expectedBytes = min(Self.chunkBytes, manifest.bodyBytes - index * Self.chunkBytes)
                guard piece.count == Self.chunkPrefixBytes + expectedBytes,
                    readLittleEndian(piece, at: 4) == UInt32(index),
                    readLittleEndian(piece, at: 0)
                        == piece.withUnsafeBytes({
                            crc32(UnsafeRawBufferPointer(rebasing: $0[Self.chunkPrefixBytes...]))
                        })
                else {
                    throw damaged(
                        "piece \(index) of \(manifest.chunks) (\(subject)) is damaged (its size, index or CRC-32 is "
                            + "not what was written)")
                }
                body.append(contentsOf: piece[Self.chunkPrefixBytes...])
            }
        }
        guard body.withUnsafeBytes({ crc32($0) }) == manifest.bodyCRC else {
            throw damaged("the CRC-32 of its \(manifest.bodyBytes) bytes is not the manifest's (digest mismatch)")
        }
        return .claimed(
            StoredCheckpoint(format: manifest.format, body: body, lastSequence: manifest.lastSequence, origin: origin))
    }

    /// How to start over.
    private var purgeAdvice: String { "nats stream purge \(streamName) --subject '\(root).>'" }

    private func damaged(_ what: String) -> TailError {
        TailError(
            code: .checkpointDamaged,
            message: "the detect checkpoint in stream \(streamName) cannot be used: \(what). To start over from the "
                + "events stream's first message (the alerts stream drops the records it has within its duplicate "
                + "window), purge it: \(purgeAdvice)")
    }
}

@available(*, unavailable)
extension ChunkedCheckpointStore: Sendable {}

/// The manifest: one line of JSON, e.g. `{"sendwatch_detect_state":1,"tenure":…,"holder":"…",
/// "chunk_tenure":…,"generation":3,"chunks":26,"body_bytes":13331415,"body_crc32":…,"state_format":2,
/// "last_sequence":14641,"alert_records":279}`. `chunks` 0: no checkpoint yet (a claim of an empty store).
struct Manifest: Equatable {
    var tenure: UInt64 = 0
    var chunkTenure: UInt64 = 0
    var generation: UInt64 = 0
    var chunks = 0
    var bodyBytes = 0
    var bodyCRC: UInt32 = 0
    var format = 0
    var lastSequence: UInt64 = 0
    var alertRecords = 0

    /// The same checkpoint, claimed by `tenure`.
    func claimed(by tenure: UInt64) -> Manifest {
        var copy = self
        copy.tenure = tenure
        return copy
    }

    /// The manifest in `bytes`; nil when a field is missing or out of range.
    init?(parsing bytes: [UInt8]) {
        func field(_ name: String) -> UInt64? { CheckpointFile.integerField(name, in: bytes) }
        guard field("sendwatch_detect_state") == 1, let tenure = field("tenure"), tenure > 0,
            let chunkTenure = field("chunk_tenure"), let generation = field("generation"),
            let chunks = field("chunks"), chunks <= UInt64(ChunkedCheckpointStore.defaultMaxChunks),
            let bodyBytes = field("body_bytes"),
            bodyBytes <= UInt64(ChunkedCheckpointStore.chunkBytes * ChunkedCheckpointStore.defaultMaxChunks),
            let crc = field("body_crc32"), crc <= UInt64(UInt32.max), let format = field("state_format"),
            format <= 1_000_000, let last = field("last_sequence"), let records = field("alert_records"),
            records <= UInt64(Int.max)
        else { return nil }
        self.init(
            tenure: tenure, chunkTenure: chunkTenure, generation: generation, chunks: Int(chunks),
            bodyBytes: Int(bodyBytes), bodyCRC: UInt32(crc), format: Int(format), lastSequence: last,
            alertRecords: Int(records))
    }

    init(
        tenure: UInt64 = 0, chunkTenure: UInt64 = 0, generation: UInt64 = 0, chunks: Int = 0, bodyBytes: Int = 0,
        bodyCRC: UInt32 = 0, format: Int = 0, lastSequence: UInt64 = 0, alertRecords: Int = 0
    ) {
        self.tenure = tenure
        self.chunkTenure = chunkTenure
        self.generation = generation
        self.chunks = chunks
        self.bodyBytes = bodyBytes
        self.bodyCRC = bodyCRC
        self.format = format
        self.lastSequence = lastSequence
        self.alertRecords = alertRecords
    }

    func encoded(holder: String) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("sendwatch_detect_state"); w.int(1)
        w.key("tenure"); w.int64(Int64(tenure))
        w.key("holder"); w.string(holder)
        w.key("chunk_tenure"); w.int64(Int64(chunkTenure))
        w.key("generation"); w.int64(Int64(clamping: generation))
        w.key("chunks"); w.int(chunks)
        w.key("body_bytes"); w.int(bodyBytes)
        w.key("body_crc32"); w.int64(Int64(bodyCRC))
        w.key("state_format"); w.int(format)
        w.key("last_sequence"); w.int64(Int64(clamping: lastSequence))
        w.key("alert_records"); w.int(alertRecords)
        w.endObject()
        return w.bytes
    }
}

private func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
}

private func readLittleEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    guard bytes.count >= offset + 4 else { return 0 }
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
    return value
}

extension ErrorCode where Domain == TailError {
    /// The checkpoint store in JetStream cannot be reached or claimed now; trying again later can succeed.
    public static var stateStoreUnavailable: Self { Self("state_store_unavailable") }
}
