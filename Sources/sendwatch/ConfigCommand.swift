import ArgumentParser
import Foundation
import SendWatchPipeline

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the default configuration or check a configuration file.",
        subcommands: [Defaults.self, Check.self]
    )

    struct Defaults: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the full default configuration, documented.")
        @Flag(help: "Print it as the fenced block of docs/configuration.md (between its GENERATED CONFIG markers).")
        var markdown = false
        func run() { print(markdown ? Configuration.defaultsMarkdown : Configuration.defaultsYAML, terminator: "") }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file; print every problem.",
            discussion: """
                Exit status: 0 when the file is valid; 1 when it has problems (each printed by its key, with the \
                nearest known key for a misspelt one); 64 when the file cannot be read or for bad flags.
                """)
        @Argument(help: "The YAML file.") var file: String
        func run() throws {
            let text = try readTextFile(file)
            do {
                _ = try Configuration.load(yaml: text)
                print("\(file): ok")
            } catch {
                for p in error.problems { printError("\(file): \(p)") }
                throw ExitCode(1)
            }
        }
    }
}
