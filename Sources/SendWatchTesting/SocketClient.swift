#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking stream-socket client for tests of the servers of `sendwatch tail` (the metrics endpoint, the policy
/// service): TCP to an IPv4 or IPv6 literal, or a unix socket, whose reads give up after a timeout.
///
/// The timeout is generous (30 s by default) so that only a server that does not answer fails a test, and none
/// hangs it. Sends ignore `SIGPIPE` (a server that closed first shows up on the next read).
///
/// Usage:
/// ```swift
/// let client = try SocketClient(host: "127.0.0.1", port: server.port)
/// client.send("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
/// let response = client.readToEnd()
/// ```
public final class SocketClient {
    /// What one read found.
    public enum Received: Equatable {
        /// Bytes, at most the read's size.
        case bytes([UInt8])
        /// The server closed the connection (or reset it) and nothing more is to be read.
        case end
        /// The read failed, its timeout passed first included (`EAGAIN`); the `errno`.
        case failed(Int32)
    }

    /// Why a connection could not be made.
    public struct ConnectError: Error, CustomStringConvertible {
        /// What was tried, with the `errno`.
        public var description: String
    }

    /// The connected socket.
    public let fd: Int32

    /// Connects over TCP to `host`, an IPv4 or IPv6 literal (without brackets), and `port`.
    ///
    /// - Throws: ``ConnectError`` when the socket cannot be made or the connection is refused.
    public init(host: String, port: Int, timeoutSeconds: Int = 30) throws(ConnectError) {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(description: "socket: errno \(errno)") }
        Self.setTimeout(fd, timeoutSeconds)
        let connected: Int32
        if v6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET6, host, &addr.sin6_addr)
            connected = Self.connect(fd, &addr)
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET, host, &addr.sin_addr)
            connected = Self.connect(fd, &addr)
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw ConnectError(description: "connect to \(host):\(port): errno \(code)")
        }
    }

    /// Connects to the unix (stream) socket at `unixPath`.
    ///
    /// - Throws: ``ConnectError`` when the path is too long for `sun_path` or the connection is refused.
    public init(unixPath: String, timeoutSeconds: Int = 30) throws(ConnectError) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ConnectError(description: "socket: errno \(errno)") }
        Self.setTimeout(fd, timeoutSeconds)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(unixPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw ConnectError(description: "\(unixPath) is too long for a unix socket")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        guard Self.connect(fd, &addr) == 0 else {
            let code = errno
            close(fd)
            throw ConnectError(description: "connect to \(unixPath): errno \(code)")
        }
    }

    deinit { close(fd) }

    /// Sends all of `text` that the kernel takes at once (a test's requests are small).
    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        #if canImport(Glibc)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        #else
        _ = bytes.withUnsafeBytes { Darwin.send(fd, $0.baseAddress, $0.count, 0) }
        #endif
    }

    /// One read of at most `maxBytes`, retried on `EINTR`.
    public func receive(maxBytes: Int = 4096) -> Received {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return .bytes(Array(buffer[0..<n])) }
            if n == 0 { return .end }
            if errno == EINTR { continue }
            return errno == ECONNRESET ? .end : .failed(errno)
        }
    }

    /// Everything the server sends until it closes the connection; nil when a read failed first (its timeout
    /// passed).
    public func readToEnd() -> String? {
        var response: [UInt8] = []
        while true {
            switch receive() {
            case .bytes(let bytes): response += bytes
            case .end: return String(decoding: response, as: UTF8.self)
            case .failed: return nil
            }
        }
    }

    private static func setTimeout(_ fd: Int32, _ seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// `connect(2)` to a `sockaddr_in`, `sockaddr_in6` or `sockaddr_un`.
    private static func connect<Address>(_ fd: Int32, _ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                #if canImport(Glibc)
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<Address>.size))
                #else
                Darwin.connect(fd, $0, socklen_t(MemoryLayout<Address>.size))
                #endif
            }
        }
    }
}

@available(*, unavailable)
extension SocketClient: Sendable {}
