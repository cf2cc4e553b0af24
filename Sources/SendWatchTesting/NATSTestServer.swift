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
/// `atexit` handler), so none outlives the run; only a runner killed by SIGKILL can leave one behind (it then
/// exits by itself at the next test run's port clash or is ended by CI's container).
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
        try start()
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
            runningServers.withLock { $0.insert(p.processIdentifier) }
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
            runningServers.withLock { $0.remove(p.processIdentifier) }
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
