import Logging
import SendWatchIngest

extension PollReport {
    /// Logs what the follower reported: diagnostics (something an operator should know: a missing path, a
    /// file that could not be opened, lines lost to a truncation) at warning level, decisions (files opened,
    /// switched at a rotation, rotated files queued, positions resumed, searches repeated) at debug level. Each
    /// line carries `follow.code` and `follow.path`; dropped entries beyond the report's bound are counted.
    /// Lines skipped for their length (`line_too_long`) are a warning too, with their count: `tail` also keeps
    /// them in its totals, `ship` has no parse summary, so without it they would go unsaid there.
    /// Shared by `tail` and `ship`, which follow files the same way.
    func log(to logger: Logger) {
        Self.log(diagnostics, dropped: diagnosticsDropped, named: "diagnostics", at: .warning, to: logger)
        if linesTooLong > 0 {
            logger.warning(
                "\(linesTooLong) line\(linesTooLong == 1 ? "" : "s") longer than input.max_line_bytes skipped (line_too_long)",
                metadata: ["follow.lines_too_long": "\(linesTooLong)"])
        }
        guard logger.logLevel <= .debug else { return }
        Self.log(decisions, dropped: decisionsDropped, named: "decisions", at: .debug, to: logger)
    }

    /// Logs each entry at `level` with its code and path, then how many more were `dropped` (if any).
    private static func log(
        _ entries: [FollowDiagnostic], dropped: Int, named kind: String, at level: Logger.Level, to logger: Logger
    ) {
        for d in entries {
            logger.log(
                level: level, "\(d.message)", metadata: ["follow.code": "\(d.code)", "follow.path": "\(d.path)"])
        }
        if dropped > 0 {
            logger.log(
                level: level, "more follower \(kind) in this poll than are kept; not shown",
                metadata: ["follow.dropped": "\(dropped)"])
        }
    }
}
