import Foundation
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A test process killed by a signal cannot stop its nats-servers: the next test process ends them. Two servers
/// are started by hand on store directories whose owner files name a process that is gone (one that exited, and
/// this process's id with another start time: a reused id), and a third on a directory owned by this process:
/// `reapLeftovers` kills the first two and removes their directories, and leaves the third alone. Skipped, saying
/// why, without nats-server.
@Suite struct NATSTestServerReaperTests {
    /// Starts nats-server on a free port with the store `directory`; waits until it accepts connections.
    static func startServer(directory: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(NATSTestServer.executable))
        let port = try ShipMetricsTests.freePort()
        p.arguments = ["-js", "-sd", directory, "-a", "127.0.0.1", "-p", "\(port)"]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && p.isRunning {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let up = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if up { return p }
            usleep(20_000)
        }
        throw NATSTestServerError(message: "nats-server did not start")
    }

    /// A `sendwatch-nats-*` directory in `base` whose owner file says `owner`.
    static func storeDirectory(in base: String, owner: String) throws -> String {
        var template = Array((base + "/sendwatch-nats-XXXXXX").utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        try owner.write(toFile: dir + "/" + NATSTestServer.ownerFile, atomically: true, encoding: .utf8)
        return dir
    }

    @Test func serversOfDeadTestProcessesAreKilledAndOthersLeftAlone() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let base = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        // A process that has exited (its id is free again) and this process's id with another start time.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/sleep")
        gone.arguments = ["60"]
        try gone.run()
        let goneOwner = try #require(NATSTestServer.owner(pid: gone.processIdentifier))
        kill(gone.processIdentifier, SIGKILL)
        gone.waitUntilExit()
        #expect(NATSTestServer.owner(pid: gone.processIdentifier) == nil)
        let me = try #require(NATSTestServer.owner(pid: getpid()))
        let reused = "\(getpid()) 1"
        #expect(reused != me)

        let orphanA = try Self.storeDirectory(in: base, owner: goneOwner)
        let orphanB = try Self.storeDirectory(in: base, owner: reused)
        let mine = try Self.storeDirectory(in: base, owner: me)
        // As `NATSTestServer` names them: the temporary directory's path ends in `/`, so the path holds `//`.
        let a = try Self.startServer(
            directory: orphanA.replacingOccurrences(of: "/sendwatch-nats-", with: "//sendwatch-nats-"))
        let b = try Self.startServer(directory: orphanB)
        let kept = try Self.startServer(directory: mine)
        defer { for p in [a, b, kept] where p.isRunning { kill(p.processIdentifier, SIGKILL) } }

        #expect(NATSTestServer.reapLeftovers(in: base) == 2)
        let deadline = Date().addingTimeInterval(5)
        while (a.isRunning || b.isRunning) && Date() < deadline { usleep(10_000) }
        #expect(!a.isRunning && !b.isRunning, "the dead owners' servers are killed")
        #expect(a.terminationReason == .uncaughtSignal && a.terminationStatus == SIGKILL)
        #expect(!FileManager.default.fileExists(atPath: orphanA) && !FileManager.default.fileExists(atPath: orphanB))
        #expect(kept.isRunning, "a running owner's server is left alone")
        #expect(FileManager.default.fileExists(atPath: mine))
        // Nothing left to do the second time.
        #expect(NATSTestServer.reapLeftovers(in: base) == 0)
        #expect(kept.isRunning)
    }
}
