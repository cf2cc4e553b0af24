import Foundation
import Logging
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchIngest

extension TailRun {
    /// Reads the checkpoint of the state directory, if there is one: the saved state, the alert output's position
    /// it recorded, its sections (with where they are on disk), and its state format. A checkpoint of the older
    /// formats ``TailState/migrations`` name is read too (the next checkpoint is written in the current format).
    ///
    /// - Throws: ``TailError`` (`checkpoint_damaged`, also for missing or damaged section files;
    ///   `checkpoint_incompatible`); the files are left in place.
    static func loadCheckpoint(options: TailOptions) throws(TailError) -> SavedCheckpoint? {
        guard let directory = options.stateDirectory else { return nil }
        let path = directory + "/checkpoint"
        let damagedAdvice =
            "The state is kept as it is; move the file away (with the checkpoint-sections files beside it) to start "
            + "over (alerts of the lines read since may repeat), or restore a good copy."
        guard
            let (contents, format) = try StateDirectory.readCheckpointFile(
                path: path, formats: TailState.readFormats, name: "checkpoint",
                damagedAdvice: damagedAdvice,
                incompatibleAdvice: "Run the version that wrote it, or move the file away to start over.")
        else { return nil }
        let header = contents.header
        var reference: CheckpointSectionStore.Reference?
        var sections = StateSections()
        if let generation = CheckpointFile.integerField("sections_generation", in: header) {
            guard let bytes = CheckpointFile.integerField("sections_delta_bytes", in: header),
                let crc = CheckpointFile.integerField("sections_delta_crc32", in: header).flatMap(UInt32.init(exactly:))
            else {
                throw TailError(
                    code: .checkpointDamaged, message: "the header names no sections delta. \(damagedAdvice)",
                    path: path)
            }
            let r = CheckpointSectionStore.Reference(generation: generation, deltaBytes: bytes, deltaCRC: crc)
            do {
                sections = try CheckpointSectionStore.load(directory: directory, reference: r)
            } catch {
                throw TailError(code: .checkpointDamaged, message: "\(error). \(damagedAdvice)", path: error.path)
            }
            reference = r
        }
        let state = try StateDirectory.decodeBody(
            TailState.self, contents.body, sections: sections,
            userInfo: StateMigration.userInfo(reading: format, among: TailState.migrations), name: "checkpoint",
            path: path)
        let position = CheckpointFile.integerField("output_position", in: header).map { Int64($0) }
        return SavedCheckpoint(
            state: state, outputPosition: position, sections: sections, reference: reference, format: format)
    }

    /// Takes the result of a checkpoint in flight, then starts one when it is due: data flowed for the
    /// interval, this run read its first lines (``firstProgressUncheckpointed``), alerts were written a moment
    /// ago, or the delivery journal reached its bound. True when one was started.
    func checkpointIfDue(now t: Double) throws(TailError) -> Bool {
        let interval = CheckpointPacing.intervalSeconds(
            configured: options.checkpointIntervalSeconds, lastDurationSeconds: lastCheckpointSeconds)
        let due =
            (dirty && (firstProgressUncheckpointed || t - (lastCheckpoint ?? t) >= interval))
            || (firstUncheckpointedAlert.map { t - $0 >= options.alertCheckpointDelaySeconds } ?? false)
            || delivery.journalEntries >= options.maxJournalEntries
        try finishCheckpointInFlight(wait: false)
        guard due, options.stateDirectory != nil, !checkpointWriter.isBusy else { return false }
        try startCheckpoint()
        lastCheckpoint = t
        firstUncheckpointedAlert = nil
        firstProgressUncheckpointed = false
        return true
    }

    /// Writes the checkpoint and waits until it is on disk: syncs the output (policy), snapshots the state,
    /// saves it, then drops the alert journal it covers. Used at a stop and when there is no state worth a thread.
    public func checkpoint() throws(TailError) {
        try finishCheckpointInFlight(wait: true)
        guard try startCheckpoint() else { return }
        try finishCheckpointInFlight(wait: true)
    }

    /// Waits for the checkpoint being written, if any (it may be written by a thread of its own), and reports
    /// its failure.
    public func settleCheckpoint() throws(TailError) {
        try finishCheckpointInFlight(wait: true)
    }

    /// Snapshots the state and hands it to the checkpoint thread; false when there is no state directory.
    @discardableResult
    private func startCheckpoint() throws(TailError) -> Bool {
        guard let directory = options.stateDirectory else { return false }
        let started = TailRun.monotonicSeconds()
        do throws(OutputError) {
            try delivery.sync()
        } catch {
            throw TailError(output: error, code: .checkpointFailed, consequence: "the checkpoint was not advanced")
        }
        totals.checkpoints += 1
        let state = TailState(
            follower: follower.state, streams: consumer.checkpoint(followed: Set(follower.streams.map(\.name))),
            engine: engine.checkpoint(), totals: totals,
            idleAdvancedTo: idleAdvancedTo, configuration: configurationText)
        var header = JSONWriter(capacity: 512)
        header.beginObject()
        header.key("sendwatch_checkpoint"); header.int(1)
        header.key("state_format"); header.int(TailState.format)
        header.key("written_at"); header.time(EventTime(microseconds: Int64(TailRun.wallSeconds() * 1_000_000)))
        header.key("output"); header.string(delivery.name)
        header.key("output_position"); header.int64(delivery.position ?? 0)
        header.key("alert_records"); header.int(totals.alertRecords)
        header.objects("files", follower.lag) { header, p in
            header.key("path"); header.string(p.name)
            header.key("offset"); header.int64(p.offset)
        }
        header.endObject()
        // Alerts written from now on belong to the next checkpoint: they go to a new journal.
        let journal = delivery.rotateJournal(sequence: totals.checkpoints)
        dirty = false
        checkpointWriter.submit(
            .init(state: state, header: header.bytes, directory: directory, journal: journal, started: started))
        return true
    }

    /// Takes the outcome of the checkpoint in flight (waiting for it when `wait`), and throws if it failed.
    private func finishCheckpointInFlight(wait: Bool) throws(TailError) {
        guard let outcome = wait ? checkpointWriter.waitForResult() : checkpointWriter.takeResult() else { return }
        if let failure = outcome.failure {
            // The previous checkpoint stays; the rotated journal stays too, so a restart still skips its lines.
            dirty = true
            throw TailError(code: .checkpointFailed, message: failure, path: outcome.job.path)
        }
        if let journal = outcome.job.journal { delivery.dropJournal(journal) }
        delivery.dropStaleJournals()
        lastCheckpointSeconds = outcome.seconds
        metrics.update {
            $0.checkpointBytes = outcome.bytes
            $0.checkpointSeconds = outcome.seconds
        }
        logger.debug(
            "checkpoint written",
            metadata: [
                "checkpoint.bytes": "\(outcome.bytes)",
                "checkpoint.seconds": "\(String(format: "%.3f", outcome.seconds))",
            ])
    }
}
