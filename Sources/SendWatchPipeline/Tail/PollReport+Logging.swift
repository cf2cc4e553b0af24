import Logging
import SendWatchIngest

extension PollReport {
    /// Logs what the follower reported: diagnostics (something an operator should know: a missing path, a
    /// file that could not be opened, lines lost to a truncation) at warning level, decisions (files opened,
    /// switched at a rotation, rotated files queued, positions resumed, searches repeated) at debug level. Each
    /// line carries `follow.code` and `follow.path`; dropped entries beyond the report's bound are counted.
    /// Shared by `tail` and `ship`, which follow files the same way.
    func log(to logger: Logger) {
        for d in diagnostics {
            logger.warning("\(d.message)", metadata: ["follow.code": "\(d.code)", "follow.path": "\(d.path)"])
        }
        if diagnosticsDropped > 0 {
            logger.warning(
                "more follower diagnostics in this poll than are kept; not shown",
                metadata: ["follow.dropped": "\(diagnosticsDropped)"])
        }
        guard logger.logLevel <= .debug else { return }
        for d in decisions {
            logger.debug("\(d.message)", metadata: ["follow.code": "\(d.code)", "follow.path": "\(d.path)"])
        }
        if decisionsDropped > 0 {
            logger.debug(
                "more follower decisions in this poll than are kept; not shown",
                metadata: ["follow.dropped": "\(decisionsDropped)"])
        }
    }
}
