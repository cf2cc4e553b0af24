import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A `nats-server` with JetStream for tests: on a free loopback port, with a file store in a temporary
/// directory; stopped (SIGTERM, then SIGKILL after 5 s) and restarted on the same port and store.
///
/// Share one per suite (a `static let` of the suite), so that a test run starts it once: tests then use
/// stream names of their own. Every server still running when the test process exits is killed then (an
/// `atexit` handler). A test process killed by a signal cannot run that handler, so each store directory names
/// its owner (the file `sendwatch-owner`: process id and start time), and the first server a test process
/// starts first ends the servers of owners that are gone (``reapLeftovers(in:)``).
///
/// Usage:
/// ```swift
/// guard let server = NATSTestServer.shared(reasonIfMissing: { print($0) }) else { return }
/// let client = try JetStreamClient(url: server.url)
/// ```
public final class NATSTestServer: @unchecked Sendable {
    /// The `nats-server` executable: on `PATH`, else Debian's `/usr/sbin/nats-server`; nil when not installed.
    public static let executable: String? = {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
        for dir in dirs where FileManager.default.isExecutableFile(atPath: dir + "/nats-server") {
            return dir + "/nats-server"
        }
        return nil
    }()

    /// Why the fleet tests are skipped here, or nil when nats-server is installed.
    public static var missingReason: String? {
        executable == nil
            ? "nats-server is not installed (Debian package nats-server; scripts/deps test installs it): "
                + "the NATS tests are skipped" : nil
    }

    /// The loopback port it listens on (the same after a restart).
    public let port: Int
    /// The JetStream store directory (the same after a restart); removed when the server is released.
    public let storeDirectory: String
    /// `nats://127.0.0.1:PORT`.
    public var url: String { "nats://127.0.0.1:\(port)" }

    private let lock = NSLock()
    private var process: Process?

    /// Starts a server on a free loopback port with a new temporary store directory.
    ///
    /// - Throws: when nats-server is missing, or does not accept connections within 10 s.
    public init() throws {
        guard Self.executable != nil else {
            throw NATSTestServerError(message: Self.missingReason ?? "nats-server missing")
        }
        port = try Self.freeLoopbackPort()
        var template = Array((NSTemporaryDirectory() + "/sendwatch-nats-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw NATSTestServerError(message: "cannot create a temporary store directory: errno \(errno)")
        }
        storeDirectory = String(cString: made)
        _ = Self.reapedAtFirstStart
        if let owner = Self.owner(pid: getpid()) {
            try owner.write(toFile: storeDirectory + "/" + Self.ownerFile, atomically: true, encoding: .utf8)
        }
        try start()
    }

    /// The file in a store directory that names the test process that made it: `<pid> <start time>`.
    public static let ownerFile = "sendwatch-owner"

    /// Leftovers ended before this process's first server starts (run once).
    private static let reapedAtFirstStart: Int = reapLeftovers()

    /// `<pid> <start time in clock ticks since boot>` of a running process (the start time tells a process from
    /// a later one that got the same id), or nil when no such process runs.
    public static func owner(pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After the command's `)`: state is field 3, start time field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return "\(pid) \(fields[19])"
    }

    /// Ends the nats-servers left behind by test processes that died without stopping them: for each
    /// `sendwatch-nats-*` directory in `directory` (default the temporary directory) whose owner file names a
    /// process that no longer runs, every `nats-server` process whose `-sd` argument is that directory is killed
    /// (SIGKILL) and the directory removed. Directories of running owners, and without an owner file, are left
    /// alone (another test run, or one made by hand). Returns the number of servers killed.
    @discardableResult
    public static func reapLeftovers(in directory: String? = nil) -> Int {
        let fm = FileManager.default
        // Paths are compared with repeated slashes collapsed (`NSTemporaryDirectory()` ends in one, so the store
        // directories' paths hold `//`).
        func collapsed(_ path: String) -> String {
            "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        }
        let base = collapsed(directory ?? NSTemporaryDirectory())
        let names = ((try? fm.contentsOfDirectory(atPath: base)) ?? []).filter { $0.hasPrefix("sendwatch-nats-") }
        var orphans: Set<String> = []
        for name in names {
            let dir = base + "/" + name
            guard let text = try? String(contentsOfFile: dir + "/" + ownerFile, encoding: .utf8) else { continue }
            let recorded = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let pid = recorded.split(separator: " ").first.flatMap({ Int32($0) }) else { continue }
            if owner(pid: pid) != recorded { orphans.insert(dir) }
        }
        if orphans.isEmpty { return 0 }
        var killed = 0
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let data = fm.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let argv = data.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard let program = argv.first, program.hasSuffix("nats-server"),
                let sd = argv.firstIndex(of: "-sd"), sd + 1 < argv.count, orphans.contains(collapsed(argv[sd + 1]))
            else { continue }
            if Glibc.kill(pid, SIGKILL) == 0 { killed += 1 }
        }
        for dir in orphans { try? fm.removeItem(atPath: dir) }
        return killed
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: storeDirectory)
    }

    /// Whether the server process runs.
    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Starts the server (if it is not running) on ``port`` and ``storeDirectory``, and waits until it accepts
    /// connections (at most 10 s).
    public func start() throws {
        guard let executable = Self.executable else {
            throw NATSTestServerError(message: Self.missingReason ?? "nats-server missing")
        }
        try lock.withLock {
            if process?.isRunning == true { return }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["-js", "-sd", storeDirectory, "-a", "127.0.0.1", "-p", "\(port)"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            process = p
            runningServers.withLock { _ = $0.insert(p.processIdentifier) }
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.accepts(port: port) { return }
            guard isRunning else { throw NATSTestServerError(message: "nats-server exited at start (port \(port))") }
            usleep(20_000)
        }
        throw NATSTestServerError(message: "nats-server did not accept connections on port \(port) within 10 s")
    }

    /// Stops the server: SIGTERM, then SIGKILL if it has not exited within 5 s. The store stays.
    public func stop() { end(signal: SIGTERM) }

    /// Kills the server with SIGKILL (a crash); the store stays.
    public func kill() { end(signal: SIGKILL) }

    private func end(signal: Int32) {
        lock.withLock {
            guard let p = process else { return }
            process = nil
            if p.isRunning {
                Glibc.kill(p.processIdentifier, signal)
                let deadline = Date().addingTimeInterval(5)
                while p.isRunning && Date() < deadline { usleep(10_000) }
                if p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
                p.waitUntilExit()
            }
            runningServers.withLock { _ = $0.remove(p.processIdentifier) }
        }
    }

    /// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NATSTestServerError(message: "socket failed: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, length) == 0 && getsockname(fd, p, &length) == 0
            }
        }
        guard bound else { throw NATSTestServerError(message: "cannot bind a loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// Why a ``NATSTestServer`` could not start.
public struct NATSTestServerError: Error, CustomStringConvertible {
    /// What failed.
    public var message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Process ids of the servers started and not yet stopped, killed at exit.
private let runningServers: Mutex<Set<Int32>> = {
    atexit {
        runningServers.withLock { pids in
            for pid in pids { kill(pid, SIGKILL) }
        }
    }
    return Mutex([])
}()
