import Foundation
import SendWatchCore
import SendWatchIngest

/// Encodes and writes checkpoints on a thread of their own, so that a large detection state (hundreds of MB take
/// seconds to encode) does not stop the tail loop from reading lines and writing alerts meanwhile.
///
/// The loop takes a snapshot of the state (cheap: the engine's tables are shared copy-on-write until the loop
/// next changes them) and hands it over with ``submit(_:)``; one checkpoint is in flight at a time. The loop
/// learns the outcome from ``takeResult()`` (non-blocking) or ``waitForResult()`` (at a stop). Until a result
/// says the checkpoint is on disk, the previous one stays the one a restart uses.
///
/// The state's large arrays go to the section files of ``CheckpointSectionStore`` (only the words changed since the
/// last checkpoint are written), the rest to the checkpoint file, whose header then names the sections it goes
/// with. The sections are written and synced before the checkpoint file is renamed into place.
///
/// Memory: while a checkpoint is in flight, tables the loop changes are copied (copy-on-write), so the peak can
/// reach about twice the detection state for the few seconds of a large checkpoint; the sections of the last
/// checkpoint are kept to compare with (see ``CheckpointSectionStore``).
final class CheckpointWriter: @unchecked Sendable {
    /// What is written.
    struct Job: Sendable {
        var state: TailState
        var header: [UInt8]
        /// The state directory; the checkpoint file is `checkpoint` in it.
        var directory: String
        var path: String { directory + "/checkpoint" }
        /// The alert journal rotated away for this checkpoint, dropped once it is on disk.
        var journal: String?
        var started: Double
    }

    /// What happened to a job.
    struct Outcome: Sendable {
        var job: Job
        /// Bytes written: the checkpoint file's body and the sections' changes.
        var bytes: Int
        var seconds: Double
        var failure: String?
    }

    /// The state shared with the thread. The thread holds only this, so the writer can go away (and stop the
    /// thread) while the thread waits.
    private final class Core: @unchecked Sendable {
        let condition = NSCondition()
        var pending: Job?
        var finished: Outcome?
        var busy = false
        var stop = false
        var buffer: [UInt8] = []
        /// Made by ``restore(directory:sections:reference:)`` or the first job.
        var sections: CheckpointSectionStore?
    }

    private let core = Core()
    private var started = false

    /// Takes the sections of the checkpoint a run restored from, before the first job: the first checkpoint then
    /// writes only what changed since.
    func restore(directory: String, sections: StateSections, reference: CheckpointSectionStore.Reference?) {
        core.condition.lock()
        defer { core.condition.unlock() }
        let store = CheckpointSectionStore(directory: directory)
        store.restore(sections, reference: reference)
        core.sections = store
    }

    deinit {
        core.condition.lock()
        core.stop = true
        core.condition.broadcast()
        core.condition.unlock()
    }

    /// Whether a checkpoint is being written.
    var isBusy: Bool {
        core.condition.lock()
        defer { core.condition.unlock() }
        return core.busy
    }

    /// Starts writing `job`; the caller has made sure none is in flight (``isBusy`` is false and its result taken).
    func submit(_ job: Job) {
        let core = self.core
        core.condition.lock()
        core.pending = job
        core.busy = true
        core.condition.signal()
        core.condition.unlock()
        if !started {
            started = true
            let t = Thread { CheckpointWriter.loop(core) }
            t.name = "sendwatch-checkpoint"
            t.start()
        }
    }

    /// The outcome of the last job, once it is done (nil while it runs or when there is none).
    func takeResult() -> Outcome? {
        core.condition.lock()
        defer { core.condition.unlock() }
        let r = core.finished
        core.finished = nil
        return r
    }

    /// Waits for the job in flight, if any, and returns its outcome.
    func waitForResult() -> Outcome? {
        core.condition.lock()
        while core.busy { core.condition.wait() }
        let r = core.finished
        core.finished = nil
        core.condition.unlock()
        return r
    }

    private static func loop(_ core: Core) {
        while true {
            core.condition.lock()
            while core.pending == nil && !core.stop { core.condition.wait() }
            guard let job = core.pending else {
                core.condition.unlock()
                return
            }
            core.pending = nil
            core.condition.unlock()

            var failure: String?
            var bytes = 0
            do {
                bytes = try write(job, core)
            } catch {
                failure = "\(error)"
            }
            let outcome = Outcome(
                job: job, bytes: bytes, seconds: TailRun.monotonicSeconds() - job.started, failure: failure)

            core.condition.lock()
            core.finished = outcome
            core.busy = false
            core.condition.broadcast()
            core.condition.unlock()
        }
    }

    /// Encodes the job's state, writes its sections, then the checkpoint file naming them; returns the bytes
    /// written.
    private static func write(_ job: Job, _ core: Core) throws -> Int {
        if core.sections == nil { core.sections = CheckpointSectionStore(directory: job.directory) }
        // Safe to force unwrap: set above.
        let store = core.sections!
        var sections = StateSections()
        try StateCoding.encode(job.state, into: &core.buffer, sections: &sections)
        let staged = try store.stage(sections)
        var header = job.header
        if let r = staged.reference, header.last == UInt8(ascii: "}") {
            header.removeLast()
            header += Array(
                ",\"sections_generation\":\(r.generation),\"sections_delta_bytes\":\(r.deltaBytes),"
                    .utf8)
            header += Array("\"sections_delta_crc32\":\(r.deltaCRC)}".utf8)
        }
        try CheckpointFile.write(path: job.path, header: header, body: core.buffer)
        store.commit(staged)
        return core.buffer.count + staged.bytesWritten
    }
}
