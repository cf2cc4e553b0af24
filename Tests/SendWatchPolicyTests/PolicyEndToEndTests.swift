import Foundation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch tail --policy` as a process: a log that produces an alert, then smtpd's questions.
@Suite("Policy end to end", .serialized)
struct PolicyEndToEndTests {
    @Test("tail --policy holds the login of an open alert and lets an unflagged one through")
    func holdsFlaggedLogin() throws {
        let dir = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try FlaggingLog(directory: dir)
        let socket = dir + "/policy.sock"
        let tail = try FlaggingTail(directory: dir, log: log, policy: "unix:" + socket)
        #expect(tail.policyAddress() == "unix:" + socket, "\(tail.stderrText())")
        let flagged = try #require(tail.flaggedAccount(), "\(tail.stderrText())")
        #expect(log.abusive.contains(flagged))

        let client = try PolicyClient(unixPath: socket)
        // The board is published before the alert is written, so it holds as soon as the alert is in the file.
        client.send(PolicyClient.request(login: flagged) + PolicyClient.request(login: log.unflagged))
        let held = client.readAnswer()
        #expect(held?.hasPrefix("action=HOLD SendWatch open alert, held for review [sw-") == true, "\(held ?? "none")")
        #expect(client.readAnswer() == "action=DUNNO\n\n")
        client.send(PolicyClient.request(login: nil, sender: flagged))
        #expect(client.readAnswer() == "action=DUNNO\n\n", "the envelope sender is not looked up")

        #expect(tail.stop() == 0, "\(tail.stderrText())")
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket is removed at the end")
    }

    @Test("After a restart from its checkpoint, tail --policy holds the open alert's login again at once")
    func holdsAfterRestart() throws {
        let dir = try shortTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try FlaggingLog(directory: dir)
        let socket = dir + "/policy.sock"
        let state = dir + "/state"
        let first = try FlaggingTail(directory: dir, log: log, policy: "unix:" + socket, state: state)
        #expect(first.policyAddress() == "unix:" + socket, "\(first.stderrText())")
        let flagged = try #require(first.flaggedAccount(), "\(first.stderrText())")
        #expect(first.stop() == 0, "\(first.stderrText())")

        // The whole log was read before the stop: the restarted run delivers no record that could fill the table.
        let restarted = try FlaggingTail(directory: dir, log: log, policy: "unix:" + socket, state: state)
        #expect(restarted.policyAddress() == "unix:" + socket, "\(restarted.stderrText())")
        let client = try PolicyClient(unixPath: socket)
        client.send(PolicyClient.request(login: flagged) + PolicyClient.request(login: log.unflagged))
        let held = client.readAnswer()
        #expect(held?.hasPrefix("action=HOLD SendWatch open alert, held for review [sw-") == true, "\(held ?? "none")")
        #expect(client.readAnswer() == "action=DUNNO\n\n")
        #expect(restarted.stop() == 0, "\(restarted.stderrText())")
    }

    @Test(
        "A malformed --policy exits 64 (usage) with a message",
        arguments: [":10040", "10040x", "unix:relative.sock", "host:10040"])
    func malformed(value: String) throws {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let process = Process()
        process.executableURL = exe
        process.arguments = ["tail", "--policy", value, "/nonexistent/mail.log"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 64, "\(text)")
        #expect(text.contains("--policy '\(value)'"), "\(text)")
    }
}
