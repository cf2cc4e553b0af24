import ArgumentParser
import SendWatchFormats
import SendWatchPipeline

/// Which logs a command's `--config`, `--format`, `--year` and `--timezone` apply to, as their help says it.
/// The defaults are the help of the commands that read their own inputs (`events`, `replay`).
protocol ReadLogs {
    /// The help of `--config`.
    static var configHelp: String { get }
    /// The help of `--format`.
    static var formatHelp: String { get }
    /// The help of `--year`.
    static var yearHelp: String { get }
    /// The help of `--timezone`.
    static var timezoneHelp: String { get }
}

extension ReadLogs {
    static var configHelp: String { "YAML configuration file (see 'sendwatch config defaults')." }
    static var formatHelp: String { "Input format: auto, \(LogFormat.namesText) (default: input.format, auto)." }
    static var yearHelp: String { "Year of year-less syslog timestamps (default: each file's modification time)." }
    static var timezoneHelp: String {
        "Zone of timestamps without an offset: local, UTC, +01:00 or an IANA name (default: local, the system's)."
    }
}

/// The log files `events` and `replay` read.
enum ReadFiles: ReadLogs {}

/// The live logs `tail` and `ship` follow: a line's year is the current one.
enum FollowedLogs: ReadLogs {
    static var yearHelp: String {
        "Year of year-less syslog timestamps (default: the current year, rolling over at New Year)."
    }
}

/// The `--events` logs of `report`.
enum ReportedEvents: ReadLogs {
    static var configHelp: String { "YAML configuration file for reading --events (see 'sendwatch config defaults')." }
    static var formatHelp: String { "Format of the --events logs: auto, \(LogFormat.namesText) (default auto)." }
    static var yearHelp: String {
        "Year of year-less syslog timestamps in --events (default: each file's modification time)."
    }
    static var timezoneHelp: String {
        "Zone of --events timestamps without an offset: local (default), UTC, +01:00 or an IANA name."
    }
}

/// `--config FILE` and the flags that override its input keys (`--format`, `--year`, `--timezone`): declared
/// once so that every command that reads logs loads and checks them the same way; the help says which `Logs`
/// they apply to.
struct ConfigurationFlags<Logs: ReadLogs>: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(Logs.configHelp))
    var config: String?

    @Option(name: .long, help: ArgumentHelp(Logs.formatHelp))
    var format: String?

    @Option(name: .long, help: ArgumentHelp(Logs.yearHelp))
    var year: Int?

    @Option(name: .long, help: ArgumentHelp(Logs.timezoneHelp))
    var timezone: String?

    /// The flags given, as arguments (`--config=FILE`, ...) for ``InputOptions``, so that `tail`, `ship` and
    /// `report --events` load the configuration exactly as `events` does.
    var arguments: [String] {
        var arguments: [String] = []
        if let config { arguments.append("--config=\(config)") }
        if let format { arguments.append("--format=\(format)") }
        if let year { arguments.append("--year=\(year)") }
        if let timezone { arguments.append("--timezone=\(timezone)") }
        return arguments
    }

    /// The configuration file (the defaults without one) with the flags applied on top.
    func loadConfiguration() throws -> Configuration {
        var configuration = Configuration()
        if let path = config {
            let text = try readTextFile(path, named: "configuration file \(path)")
            do {
                configuration = try Configuration.load(yaml: text)
            } catch {
                throw ValidationError("\(path): \(error.problems.joined(separator: "\n  "))")
            }
        }
        if let format {
            if format == "auto" {
                configuration.format = nil
            } else if let f = LogFormat(rawValue: format) {
                configuration.format = f
            } else {
                throw ValidationError("--format must be auto, \(LogFormat.namesText), not '\(format)'")
            }
        }
        if let year {
            guard Timestamps.plausibleYears.contains(year) else {
                throw ValidationError("--year \(year) is outside \(Timestamps.plausibleYears)")
            }
            configuration.year = year
        }
        if let timezone {
            guard LocalTimeZone(parsing: timezone) != nil else {
                throw ValidationError(
                    "--timezone '\(timezone)' is not local, UTC, an offset like +01:00, or a known zone name")
            }
            configuration.timezone = timezone
        }
        return configuration
    }
}
