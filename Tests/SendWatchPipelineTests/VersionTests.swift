import Foundation
import Testing

@Suite struct VersionTests {
    @Test("--version names the release from VERSION and the commit the binary was built from")
    func version() throws {
        let expected = try String(
            contentsOf: TestPaths.repositoryRoot.appendingPathComponent("VERSION"), encoding: .utf8
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try CommandLine.run(["--version"])
        #expect(result.status == 0)
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #expect(line.hasPrefix("\(expected) (commit "), "\(line)")
        // A checkout gives a hex commit (with -dirty for uncommitted changes); `unknown` only outside git.
        let commit = line.dropFirst("\(expected) (commit ".count).dropLast()
        let isGit = FileManager.default.fileExists(atPath: TestPaths.repositoryRoot.appendingPathComponent(".git").path)
        if isGit {
            #expect(commit.prefix(12).allSatisfy(\.isHexDigit) && commit.count >= 12, "\(line)")
        }
    }

    @Test("OCSF records name the release alone, so replay's output does not change with the commit")
    func ocsfVersion() throws {
        let result = try CommandLine.run([
            "replay", "--alert-format", "ocsf", TestPaths.dataset("mixed-s11.postfix.log.zst"),
        ])
        #expect(result.status == 0)
        let expected = try String(
            contentsOf: TestPaths.repositoryRoot.appendingPathComponent("VERSION"), encoding: .utf8
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.stdout.contains(#""version":"\#(expected)""#))
        #expect(!result.stdout.contains("commit"))
    }
}
