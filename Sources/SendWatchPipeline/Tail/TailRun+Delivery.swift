import Logging
import SendWatchAlerts
import SendWatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension TailRun {
    /// Writes the alerts the last poll produced through ``alerts`` (the path `replay` uses) and delivers them;
    /// retries a failed delivery every second until it succeeds or a stop is requested (then throws, leaving
    /// the checkpoint where it was). True when there were alerts.
    func deliver() throws(TailError) -> Bool {
        let produced = consumer.takeAlerts()
        guard !produced.isEmpty else { return false }
        // Before the write: a hold must not wait for an output that is being retried.
        if publishesOpenAlerts, openAlertTracker.take(produced, now: TailRun.wallSeconds()) {
            openAlerts.publish(openAlertTracker.accounts())
        }
        do throws(OutputError) {
            try alerts.write(produced)
            try alerts.flush()
        } catch {
            try retryDelivery(after: error)
        }
        // Counted once written: a run that stops because the output went away (EPIPE) does not report the
        // records it could not write.
        for alert in produced { totals.alertsByKind[alert.kind, default: 0] += 1 }
        totals.alertRecords += produced.count
        return true
    }

    /// Retries ``alerts``' flush every second, reading no input meanwhile (backpressure). Gives up when
    /// ``abandonRetry`` says so or the reader has gone away (`EPIPE`: a retry cannot help).
    private func retryDelivery(after first: OutputError) throws(TailError) {
        var error = first
        var attempts = 0
        while true {
            attempts += 1
            metrics.update { $0.outputErrors += 1 }
            if attempts == 1 || attempts % 60 == 0 {
                logger.error(
                    "cannot write alerts; not reading more input until they are written (retrying every second)",
                    metadata: [
                        "output.path": "\(delivery.name)", "output.code": "\(error.code)", "error": "\(error)",
                    ])
            }
            if error.isBrokenPipe || abandonRetry() {
                throw TailError(
                    output: error, code: .outputFailed,
                    consequence: "stopped without checkpointing past the unwritten alerts")
            }
            var pause = timespec(tv_sec: 1, tv_nsec: 0)
            _ = nanosleep(&pause, nil)
            do throws(OutputError) {
                try alerts.flush()
                return
            } catch let again {
                error = again
            }
        }
    }
}
