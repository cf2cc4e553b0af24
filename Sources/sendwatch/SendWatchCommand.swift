import ArgumentParser

@main
struct SendWatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sendwatch", abstract: "Watch mail send logs for abuse.")
}
