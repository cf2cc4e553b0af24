import Foundation
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A minimal HTTP/1.0 server for Prometheus scrapes: `GET /metrics` (any path) answers the metrics text.
///
/// One thread, one connection at a time, requests read up to 8 KiB with a 2 s timeout: a scraper is not a web
/// browser, and a slow or hostile client can delay a scrape but not the detection loop.
public final class MetricsServer: Sendable {
    private let fd: Int32
    /// The port bound (useful with port 0).
    public let port: Int

    /// Binds `address` (`HOST:PORT`, IPv4; `:9108` means all interfaces) and starts serving `metrics`.
    public init(address: String, metrics: TailMetrics) throws(TailError) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...])
        else {
            throw TailError(
                code: .metricsUnavailable, message: "--metrics '\(address)' is not HOST:PORT", path: address)
        }
        let host = String(address[..<colon])
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        if host.isEmpty || host == "0.0.0.0" || host == "*" {
            addr.sin_addr.s_addr = INADDR_ANY
        } else {
            let lookup = host == "localhost" ? "127.0.0.1" : host
            guard inet_pton(AF_INET, lookup, &addr.sin_addr) == 1 else {
                throw TailError(
                    code: .metricsUnavailable, message: "--metrics host '\(host)' is not an IPv4 address",
                    path: address)
            }
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let e = errno
            throw TailError(
                code: .metricsUnavailable, message: "metrics: cannot create a socket: \(errnoDescription(e))",
                path: address, underlyingErrno: e)
        }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let e = errno
            _ = close(fd)
            throw TailError(
                code: .metricsUnavailable,
                message: "metrics: cannot listen on \(address): \(errnoDescription(e))", path: address,
                underlyingErrno: e)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        let listener = fd
        let thread = Thread { MetricsServer.serve(listener, metrics) }
        thread.name = "sendwatch-metrics"
        thread.start()
    }

    private static func serve(_ listener: Int32, _ metrics: TailMetrics) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            _ = setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request = [UInt8](repeating: 0, count: 8192)
            var got = 0
            // Read until the end of the request headers (or the buffer is full, or the client stops).
            while got < request.count {
                let n = request.withUnsafeMutableBytes { recv(client, $0.baseAddress! + got, $0.count - got, 0) }
                if n <= 0 { break }
                got += n
                if request[0..<got].contains(UInt8(ascii: "\n"))
                    && request[0..<got].suffix(4).elementsEqual([13, 10, 13, 10])
                    || request[0..<got].suffix(2).elementsEqual([10, 10])
                {
                    break
                }
            }
            let body = Array(metrics.snapshot.prometheusText.utf8)
            let head =
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            let response = Array(head.utf8) + body
            var sent = 0
            while sent < response.count {
                let n = response.withUnsafeBytes {
                    send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
                }
                if n <= 0 { break }
                sent += n
            }
            _ = close(client)
        }
    }
}
