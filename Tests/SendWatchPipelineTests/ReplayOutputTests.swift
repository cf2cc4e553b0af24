import Foundation
import Testing

@Suite struct ReplayOutputTests {
    @Test("replay --output appends and says so when the file holds something; --overwrite replaces it")
    func appendOrOverwrite() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("alerts.jsonl").path
        let dataset = TestPaths.dataset("mixed-s11.postfix.log.zst")
        let first = try CommandLine.run(["replay", "--output", out, dataset])
        #expect(first.status == 0)
        #expect(!first.stderr.contains("appending to"))
        let once = try String(contentsOfFile: out, encoding: .utf8)
        #expect(once.contains(#""action":"create""#))

        let again = try CommandLine.run(["replay", "--output", out, dataset])
        #expect(again.status == 0)
        #expect(
            again.stderr.contains(
                "appending to \(out), which already holds \(once.utf8.count) bytes (--overwrite replaces it)"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == once + once)

        let replaced = try CommandLine.run(["replay", "--output", out, "--overwrite", dataset])
        #expect(replaced.status == 0)
        #expect(!replaced.stderr.contains("appending to"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == once)

        let misuse = try CommandLine.run(["replay", "--overwrite", dataset])
        #expect(misuse.status == 64)
        #expect(misuse.stderr.contains("--overwrite needs --output FILE"))
    }
}
