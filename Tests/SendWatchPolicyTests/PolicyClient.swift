import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client of the policy service (or, line by line, of an SMTP server) over TCP (IPv4 or IPv6 loopback) or a unix
/// socket, whose reads give up after `timeoutSeconds` (generous: only a server that does not answer fails, and
/// none hangs the test).
final class PolicyClient {
    let fd: Int32
    private var pending: [UInt8] = []

    init(host: String, port: Int, timeoutSeconds: Int = 30) throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        Self.setTimeout(fd, timeoutSeconds)
        var connected: Int32
        if v6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET6, host, &addr.sin6_addr)
            connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET, host, &addr.sin_addr)
            connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        try #require(connected == 0, "connect to \(host):\(port): errno \(errno)")
    }

    init(unixPath: String, timeoutSeconds: Int = 30) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        Self.setTimeout(fd, timeoutSeconds)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(unixPath.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: addr.sun_path))
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(connected == 0, "connect to \(unixPath): errno \(errno)")
    }

    private static func setTimeout(_ fd: Int32, _ seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What a read found.
    private enum Read { case bytes, end, timeout }

    /// Reads more bytes into ``pending``.
    private func read() -> Read {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                pending += buffer[0..<n]
                return .bytes
            }
            if n == 0 { return .end }
            if errno == EINTR { continue }
            return errno == ECONNRESET ? .end : .timeout
        }
    }

    private func fill() -> Bool { read() == .bytes }

    /// The next answer (up to and including its empty line), or nil when the connection ended (or the timeout
    /// passed) first.
    func readAnswer() -> String? {
        while true {
            if let end = zip(pending.indices, pending.dropFirst()).first(where: {
                pending[$0.0] == 0x0A && $0.1 == 0x0A
            })?.0 {
                let answer = String(decoding: pending[...(end + 1)], as: UTF8.self)
                pending.removeFirst(end + 2)
                return answer
            }
            if !fill() { return nil }
        }
    }

    /// The next line without its end (CRLF or LF), or nil when the connection ended (or the timeout passed) first.
    func readLine() -> String? {
        while true {
            if let end = pending.firstIndex(of: 0x0A) {
                var line = pending[..<end]
                if line.last == 0x0D { line = line.dropLast() }
                let text = String(decoding: line, as: UTF8.self)
                pending.removeFirst(end + 1)
                return text
            }
            if !fill() { return nil }
        }
    }

    /// Whether the server closed the connection (with nothing more to read) within the timeout.
    func isClosedByServer() -> Bool {
        while true {
            switch read() {
            case .bytes: continue
            case .end: return true
            case .timeout: return false
            }
        }
    }

    /// One request with these attributes, in Postfix's layout.
    static func request(login: String?, sender: String = "someone@example.org") -> String {
        var lines = [
            "request=smtpd_access_policy", "protocol_state=RCPT", "protocol_name=ESMTP",
            "client_address=192.0.2.10", "client_name=unknown", "helo_name=client.example", "sender=\(sender)",
            "recipient=rcpt@example.net", "queue_id=", "instance=1a2b.3c4d.5e6f.0", "size=0",
        ]
        lines.append("sasl_method=" + (login == nil ? "" : "PLAIN"))
        lines.append("sasl_username=" + (login ?? ""))
        lines.append("sasl_sender=")
        return lines.joined(separator: "\n") + "\n\n"
    }
}
