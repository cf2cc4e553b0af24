import ArgumentParser
import Foundation
import SendWatchCore

#if canImport(Glibc)
/// glibc's `mallopt(3)`, which Swift's Glibc module does not export (it lives in `<malloc.h>`).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

@main
struct SendWatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendwatch",
        abstract: "Watch what mail servers send and catch abuse of automated mail.",
        discussion: """
            SendWatch reads Postfix and Exim logs and JSON-lines send logs of notification services \
            (plain, zstd, gzip, xz, bzip2 or lz4; files, rotated archives or stdin), finds young accounts abusing notification templates, and \
            writes alerts as JSON lines.
            """,
        // `buildVersion` and `buildCommit` come from the BuildInfo plugin (VERSION and git). Alert output (OCSF's
        // product version) carries `buildVersion` alone, so replay's bytes do not change with the commit.
        version: "\(buildVersion) (commit \(buildCommit))",
        subcommands: [
            ReplayCommand.self, TailCommand.self, ShipCommand.self, DetectCommand.self, ForwardCommand.self,
            SinkCommand.self,
            EventsCommand.self, SimulateCommand.self,
            EvalCommand.self,
            ConfigCommand.self,
            ReportCommand.self,
        ]
    )

    static func main() {
        #if canImport(Glibc)
        // Pin glibc's mmap threshold at 128 KiB. By default it grows after the first large block is freed, so
        // the detection tables' growing arrays then land in the brk heap, where their freed predecessors stay
        // resident: on a 6.8 M-line replay with the decoder thread that raised peak RSS from 176 MB to 410 MB
        // (measured with MALLOC_MMAP_THRESHOLD_=131072 against the default). Large blocks are few, so the extra
        // mmap calls cost nothing measurable.
        // M_MMAP_THRESHOLD is -3 in glibc's <malloc.h>; the macro is not imported into Swift.
        _ = glibcMallopt(-3, 128 * 1024)
        #endif
        // ArgumentParser's own `main` would print errors as they are; their messages quote file names and
        // values from the command line and from input, so they go through TerminalText like every message.
        do {
            var command = try parseAsRoot()
            do {
                try command.run()
            } catch let error as ValidationError {
                // A problem found once the flags parsed (a configuration file, an input): the message alone.
                // ArgumentParser would add the root command's usage line (`Usage: sendwatch <subcommand>`),
                // which is not the command that was run and says nothing about the problem.
                let text = TerminalText.escaped("Error: \(error.message)", keepingNewlines: true) + "\n"
                FileHandle.standardError.write(Data(text.utf8))
                Foundation.exit(ExitCode.validationFailure.rawValue)
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                let text = Data((TerminalText.escaped(message, keepingNewlines: true) + "\n").utf8)
                (code == .success ? FileHandle.standardOutput : FileHandle.standardError).write(text)
            }
            Foundation.exit(code.rawValue)
        }
    }
}
