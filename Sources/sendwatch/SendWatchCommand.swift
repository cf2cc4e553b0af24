import ArgumentParser

@main
struct SendWatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendwatch",
        abstract: "Watch what mail servers send and catch abuse of automated mail.",
        discussion: """
            SendWatch reads Postfix and Exim logs and JSON-lines send logs of notification services \
            (plain, zstd or gzip; files or stdin) and turns them into per-recipient send events.
            """,
        version: "0.1.0",
        subcommands: [EventsCommand.self, ConfigCommand.self, SimulateCommand.self, EvalCommand.self]
    )
}
