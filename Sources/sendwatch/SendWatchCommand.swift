import ArgumentParser

@main
struct SendWatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendwatch",
        abstract: "Watch what mail servers send and catch abuse of automated mail.",
        discussion: """
            SendWatch reads Postfix and Exim logs and JSON-lines send logs of notification services \
            (plain, zstd or gzip; files or stdin), finds young accounts abusing notification templates, and \
            writes alerts as JSON lines.
            """,
        version: "0.1.0",
        subcommands: [
            ReplayCommand.self, EventsCommand.self, SimulateCommand.self, EvalCommand.self, ConfigCommand.self,
        ]
    )
}
