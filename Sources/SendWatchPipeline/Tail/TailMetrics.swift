#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Synchronization
import SendWatchIngest

/// The figures `sendwatch tail` publishes, replaced as a whole once per loop iteration.
///
/// Label sets are bounded: skip reasons are a closed enum, alert kinds are the rule names, and files are the
/// followed streams (at most `follow.max_streams`). Nothing is labelled per account, recipient or template.
public struct TailMetricsSnapshot: Sendable {
    public var lines = 0
    public var events = 0
    public var skipped: [(reason: String, count: Int)] = []
    public var alertsByKind: [(kind: String, count: Int)] = []
    public var alertRecords = 0
    public var evictions: UInt64 = 0
    public var lateEvents = 0
    public var timeOutliers = 0
    public var memoryBytes = 0
    public var memoryBudgetBytes = 0
    public var checkpoints = 0
    public var checkpointBytes = 0
    /// How long the last checkpoint took (encode, write, fsync, rename).
    public var checkpointSeconds: Double = 0
    public var restarts = 0
    public var outputErrors = 0
    /// Per followed file: path, offset read, bytes not read yet.
    public var files: [(path: String, offset: Int64, behindBytes: Int64)] = []
    /// Wall clock minus the newest event time, in seconds (how far behind the logs the detection is).
    public var lagSeconds: Double = 0
    public init() {}

    /// The Prometheus text exposition format (version 0.0.4).
    public var prometheusText: String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
        }
        func one(_ v: some BinaryInteger) -> [(labels: String, value: String)] { [("", String(v))] }
        metric("sendwatch_input_lines_total", "counter", "Log lines read.", one(lines))
        metric("sendwatch_parse_events_total", "counter", "Send events (message-recipients) parsed.", one(events))
        metric("sendwatch_parse_skipped_lines_total", "counter", "Lines skipped, by reason.",
               skipped.map { ("{reason=\"\(Self.escape($0.reason))\"}", String($0.count)) })
        metric("sendwatch_alerts_total", "counter", "Alert records written, by rule.",
               alertsByKind.map { ("{kind=\"\(Self.escape($0.kind))\"}", String($0.count)) })
        metric("sendwatch_detect_evictions_total", "counter", "Entries evicted from the bounded detection tables.",
               one(evictions))
        metric("sendwatch_detect_late_events_total", "counter", "Events dropped as later than the allowed lateness.",
               one(lateEvents))
        metric("sendwatch_detect_time_outliers_total", "counter",
               "Events dropped for a time far ahead of the newest event that nothing confirmed.", one(timeOutliers))
        metric("sendwatch_detect_memory_bytes", "gauge", "Approximate bytes held by the detection tables.",
               one(memoryBytes))
        metric("sendwatch_detect_memory_budget_bytes", "gauge", "The configured detection memory budget.",
               one(memoryBudgetBytes))
        metric("sendwatch_checkpoints_total", "counter", "Checkpoints written.", one(checkpoints))
        metric("sendwatch_checkpoint_bytes", "gauge", "Size of the last checkpoint's state.", one(checkpointBytes))
        metric("sendwatch_checkpoint_seconds", "gauge", "How long the last checkpoint took.",
               [("", String(format: "%.3f", checkpointSeconds))])
        metric("sendwatch_restarts_total", "counter", "Starts that resumed from a checkpoint.", one(restarts))
        metric("sendwatch_output_errors_total", "counter", "Failed writes of alert output.", one(outputErrors))
        metric("sendwatch_input_offset_bytes", "gauge", "Bytes read of each followed file.",
               files.map { ("{path=\"\(Self.escape($0.path))\"}", String($0.offset)) })
        metric("sendwatch_input_lag_bytes", "gauge", "Bytes of each followed file not read yet.",
               files.map { ("{path=\"\(Self.escape($0.path))\"}", String($0.behindBytes)) })
        metric("sendwatch_input_lag_seconds", "gauge", "Wall clock minus the newest event time.",
               [("", String(format: "%.3f", lagSeconds))])
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The shared, lock-protected metrics of a tail run. The loop replaces the snapshot once per iteration; the
/// HTTP server thread reads it per scrape.
public final class TailMetrics: Sendable {
    private let state = Mutex(TailMetricsSnapshot())

    public init() {}

    /// Changes the snapshot under the lock.
    public func update(_ body: (inout TailMetricsSnapshot) -> Void) {
        state.withLock { body(&$0) }
    }

    /// A copy of the snapshot.
    public var snapshot: TailMetricsSnapshot { state.withLock { $0 } }
}

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
        else { throw TailError("--metrics '\(address)' is not HOST:PORT") }
        let host = String(address[..<colon])
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        if host.isEmpty || host == "0.0.0.0" || host == "*" {
            addr.sin_addr.s_addr = INADDR_ANY
        } else {
            let lookup = host == "localhost" ? "127.0.0.1" : host
            guard inet_pton(AF_INET, lookup, &addr.sin_addr) == 1 else {
                throw TailError("--metrics host '\(host)' is not an IPv4 address")
            }
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TailError("metrics: cannot create a socket: \(errnoDescription(errno))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let e = errno
            _ = close(fd)
            throw TailError("metrics: cannot listen on \(address): \(errnoDescription(e))")
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
                if request[0..<got].contains(UInt8(ascii: "\n")) && request[0..<got].suffix(4).elementsEqual([13, 10, 13, 10])
                    || request[0..<got].suffix(2).elementsEqual([10, 10]) { break }
            }
            let body = Array(metrics.snapshot.prometheusText.utf8)
            let head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            let response = Array(head.utf8) + body
            var sent = 0
            while sent < response.count {
                let n = response.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            _ = close(client)
        }
    }
}
