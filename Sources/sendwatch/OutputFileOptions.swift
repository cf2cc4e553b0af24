import ArgumentParser
import SendWatchAlerts

/// What the records a command writes are called in its `--output` help (`events`, `alerts`).
protocol WrittenRecords {
    /// The plural noun, e.g. `alerts`.
    static var noun: String { get }
}

/// The send events `events` writes.
enum WrittenEvents: WrittenRecords {
    static var noun: String { "events" }
}

/// The alert records `replay` writes.
enum WrittenAlerts: WrittenRecords {
    static var noun: String { "alerts" }
}

/// `--output FILE` and `--overwrite` of the batch commands that write JSON lines (`events`, `replay`): declared
/// once so that both take the same flags with the same check; the help names what `Records` are.
struct OutputFileOptions<Records: WrittenRecords>: ParsableArguments {
    @Option(name: .long, help: "Append \(Records.noun) to this file instead of standard output (see --overwrite).")
    var output: String?

    @Flag(name: .long, help: "Empty the --output file first instead of appending to it.")
    var overwrite = false

    func validate() throws {
        if overwrite && output == nil { throw ValidationError("--overwrite needs --output FILE") }
    }

    /// Standard output or the `--output` file (see ``openOutput(_:overwrite:)``).
    func open() throws -> OutputWriter { try openOutput(output, overwrite: overwrite) }
}
