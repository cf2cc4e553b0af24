import Foundation
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
}
