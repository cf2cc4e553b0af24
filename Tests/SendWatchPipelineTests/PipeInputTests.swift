import Foundation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct PipeInputTests {
    @Test(
        "Year-less syslog from a FIFO (as from <(…) or /dev/stdin) gets the current year, with a note, not bad_timestamp"
    )
    func fifoYear() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("mail.fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = [
            "-c", "zstd -dc \"$0\" > \"$1\"", TestPaths.dataset("real-postfix-3.7.postfix.log.zst"), fifo,
        ]
        try writer.run()
        let result = try CommandLine.run(["events", "--count-only", fifo])
        writer.waitUntilExit()
        #expect(result.status == 0)
        #expect(
            result.stderr.contains("\(fifo) is not a regular file and has no modification time"), "\(result.stderr)")
        #expect(!result.stderr.contains("bad_timestamp"), "\(result.stderr)")
        #expect(!result.stderr.contains(" 0 events"), "\(result.stderr)")
    }

    @Test("JSON lines and ISO-stamped syslog through a pipe: no year warning, as their timestamps carry the year")
    func pipedFullTimestamps() throws {
        let jsonl = try ProgramRun.run(
            URL(fileURLWithPath: "/usr/bin/zstd"), ["-dc", TestPaths.dataset("notify-sample.jsonl.log.zst")],
            stdin: nil, timeout: .seconds(60))
        let iso =
            "2026-11-28T10:00:00+00:00 mx1 postfix/qmgr[1236]: 4A1B2C3D4E: from=<alice@example.net>, size=1, "
            + "nrcpt=1 (queue active)\n"
        for (name, input) in [("JSON lines", jsonl.stdout), ("ISO syslog", Data(iso.utf8))] {
            let result = try CommandLine.run(["events", "--count-only", "-"], stdin: input)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            #expect(result.stderr.contains("sendwatch: 1 input"), "\(name): \(result.stderr)")
            // Before: "standard input is not a regular file and has no modification time" for both.
            #expect(!result.stderr.contains("modification time"), "\(name): \(result.stderr)")
        }
        // Year-less syslog through the same pipe still says where its year came from, after the summary.
        let classic = iso.replacingOccurrences(of: "2026-11-28T10:00:00+00:00", with: "Nov 28 10:00:00")
        let yearless = try CommandLine.run(["events", "--count-only", "-"], stdin: Data(classic.utf8))
        #expect(
            yearless.stderr.split(separator: "\n").last?.hasPrefix(
                "sendwatch: warning: <stdin> is not a regular file and has no modification time") == true,
            "\(yearless.stderr)")
    }
}
