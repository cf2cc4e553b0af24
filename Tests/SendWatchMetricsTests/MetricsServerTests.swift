import Foundation
import SendWatchDetect
import SendWatchMetrics
import SendWatchPipeline
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `GET /metrics` on a new connection; the whole response, or nil when none came within `timeoutSeconds`.
func scrape(host: String = "127.0.0.1", port: Int, method: String = "GET", timeoutSeconds: Int = 30) throws -> String? {
    let client = try SocketClient(host: host, port: port, timeoutSeconds: timeoutSeconds)
    client.send("\(method) /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return client.readToEnd()
}

/// A snapshot with every field set, two of each label.
func sampleSnapshot() -> TailMetricsSnapshot {
    var s = TailMetricsSnapshot()
    s.lines = 20_000
    s.detection.events = 1234
    s.skipped = [("bad_timestamp", 3), ("oversize_line", 1)]
    s.linesByClass = [("understood", 19_000), ("irrelevant", 996), ("not_recognised", 4)]
    s.alertsByKind = [("template_echo", 5), ("burst", 2)]
    s.alertRecords = 7
    s.detection.evictions = 9
    s.detection.lateEvents = 4
    s.detection.timeOutliers = 2
    s.memoryBytes = 1_048_576
    s.memoryBudgetBytes = 536_870_912
    s.checkpoints = 6
    s.checkpointBytes = 4096
    s.checkpointSeconds = 0.25
    s.restarts = 1
    s.outputErrors = 0
    s.files = [("/var/log/mail.log", 100, 20), ("/var/log/a \"quoted\\\" name.log", 5, 0)]
    s.lagSeconds = 1.5
    s.pathsWithoutFile = 1
    return s
}

@Suite("Metrics address")
struct ListenAddressTests {
    @Test(
        "Accepted --metrics values and where they listen",
        arguments: [
            ("9108", "127.0.0.1:9108"),
            ("0", "127.0.0.1:0"),
            ("127.0.0.1:9108", "127.0.0.1:9108"),
            ("localhost:9108", "127.0.0.1:9108"),
            ("0.0.0.0:9108", "0.0.0.0:9108"),
            ("[::1]:9108", "[::1]:9108"),
            ("[::]:65535", "[::]:65535"),
            ("10.1.2.3:80", "10.1.2.3:80"),
        ])
    func accepted(text: String, expected: String) throws {
        #expect(try ListenAddress(parsing: text).description == expected)
    }

    @Test(
        "Malformed --metrics values are refused with a message",
        arguments: [
            ":9108", "*:9108", "", "9108x", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:99999999999", "1.2.3:9108",
            "::1:9108", "[::1]9108", "[::1]:", "[127.0.0.1]:9108", "[nonsense]:9108", "example.com:9108",
            "127.0.0.1:-1", "127.0.0.1:+80",
        ])
    func refused(text: String) {
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
    }

    @Test("':PORT' names both ways of saying what was meant")
    func emptyHost() {
        let error = #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: ":9108") }
        let message = error?.message ?? ""
        #expect(message.contains("127.0.0.1:9108") && message.contains("0.0.0.0:9108"), "\(message)")
    }
}

@Suite("Metrics exposition")
struct MetricsExpositionTests {
    @Test("Every metric keeps its name and type, and the text is valid Prometheus exposition")
    func namesAndTypes() throws {
        let text = String(decoding: MetricsExposition.render(sampleSnapshot()), as: UTF8.self)
        let expected: [(String, String)] = [
            ("sendwatch_input_lines_total", "counter"), ("sendwatch_parse_events_total", "counter"),
            ("sendwatch_parse_skipped_lines_total", "counter"), ("sendwatch_parse_lines_total", "counter"),
            ("sendwatch_alerts_total", "counter"),
            ("sendwatch_detect_evictions_total", "counter"), ("sendwatch_detect_late_events_total", "counter"),
            ("sendwatch_detect_time_outliers_total", "counter"), ("sendwatch_detect_memory_bytes", "gauge"),
            ("sendwatch_detect_memory_budget_bytes", "gauge"), ("sendwatch_checkpoints_total", "counter"),
            ("sendwatch_checkpoint_bytes", "gauge"), ("sendwatch_checkpoint_seconds", "gauge"),
            ("sendwatch_restarts_total", "counter"), ("sendwatch_output_errors_total", "counter"),
            ("sendwatch_input_offset_bytes", "gauge"), ("sendwatch_input_lag_bytes", "gauge"),
            ("sendwatch_input_lag_seconds", "gauge"), ("sendwatch_input_missing_paths", "gauge"),
        ]
        var types: [String: String] = [:]
        var helped: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let fields = line.split(separator: " ", maxSplits: 3)
            if line.hasPrefix("# TYPE ") {
                try #require(fields.count == 4)
                #expect(types[String(fields[2])] == nil, "one TYPE line per family: \(line)")
                types[String(fields[2])] = String(fields[3])
            } else if line.hasPrefix("# HELP ") {
                helped.insert(String(fields[2]))
            } else {
                // name{labels} value, the family's TYPE line before it, the value a number.
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(types[name] != nil, "sample before its TYPE line: \(line)")
                let value = String(line[line.index(after: try #require(line.lastIndex(of: " ")))...])
                #expect(Double(value) != nil, "\(line)")
            }
        }
        #expect(text.hasSuffix("\n"))
        for (name, type) in expected {
            #expect(types[name] == type, "\(name)")
            #expect(helped.contains(name), "\(name)")
        }
        #expect(types.count == expected.count)
        #expect(text.contains("sendwatch_input_lines_total 20000\n"))
        #expect(text.contains("sendwatch_parse_skipped_lines_total{reason=\"bad_timestamp\"} 3\n"))
        #expect(text.contains("sendwatch_alerts_total{kind=\"burst\"} 2\n"))
        #expect(text.contains("sendwatch_detect_memory_budget_bytes 536870912"))
        #expect(text.contains("sendwatch_checkpoint_seconds 0.25\n"))
        // A path with a quote and a backslash is escaped, so the line stays one sample.
        #expect(text.contains(#"sendwatch_input_offset_bytes{path="/var/log/a \"quoted\\\" name.log"} 5"#))
    }
}

@Suite("Metrics server", .serialized)
struct MetricsServerTests {
    @Test("A bare port listens on the IPv4 loopback")
    func barePortIsLoopback() throws {
        let server = try MetricsServer(address: ListenAddress(parsing: "0"), metrics: TailMetrics())
        defer { server.shutdown() }
        #expect(server.boundAddress.host == "127.0.0.1")
        #expect(server.port > 0)
        #expect(try scrape(port: server.port)?.hasPrefix("HTTP/1.1 200 OK") == true)
    }

    @Test("Ten idle connections do not hold up a scrape")
    func idleConnections() throws {
        let metrics = TailMetrics()
        metrics.update { $0 = sampleSnapshot() }
        let server = try MetricsServer(address: ListenAddress(parsing: "127.0.0.1:0"), metrics: metrics)
        defer { server.shutdown() }
        // Ten clients that connect and say nothing (the old one-at-a-time server waited 2 s for each).
        var idle: [SocketClient] = []
        for _ in 0..<10 { idle.append(try SocketClient(host: "127.0.0.1", port: server.port)) }
        let half = try SocketClient(host: "127.0.0.1", port: server.port)
        half.send("GET /metrics HTTP/1.1\r\nHo")
        // Answered within Prometheus's default scrape timeout (10 s; the old server took 2 s per waiting client,
        // 22 s here). The server answers in milliseconds: the margin is for a loaded machine.
        let text = try #require(
            try scrape(port: server.port, timeoutSeconds: 10), "a scrape is answered while 11 clients wait")
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.contains("sendwatch_input_lines_total 20000\n"))
        #expect(text.lowercased().contains("content-type: text/plain; version=0.0.4"))
        withExtendedLifetime(idle) {}
        withExtendedLifetime(half) {}
    }

    @Test("The IPv6 loopback is served")
    func ipv6() throws {
        let server = try MetricsServer(address: ListenAddress(parsing: "[::1]:0"), metrics: TailMetrics())
        defer { server.shutdown() }
        #expect(server.boundAddress.host == "::1")
        let text = try #require(try scrape(host: "::1", port: server.port))
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.contains("sendwatch_input_lines_total 0\n"))
    }

    @Test("Only GET and HEAD are answered with the metrics")
    func methods() throws {
        let server = try MetricsServer(address: ListenAddress(parsing: "0"), metrics: TailMetrics())
        defer { server.shutdown() }
        #expect(try scrape(port: server.port, method: "POST")?.hasPrefix("HTTP/1.1 405 Method Not Allowed") == true)
        let head = try #require(try scrape(port: server.port, method: "HEAD"))
        #expect(head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(!head.contains("sendwatch_"))
    }

    @Test("A request over the byte bound is answered 431 and closed")
    func oversizedRequest() throws {
        let server = try MetricsServer(address: ListenAddress(parsing: "0"), metrics: TailMetrics())
        defer { server.shutdown() }
        let client = try SocketClient(host: "127.0.0.1", port: server.port)
        client.send("GET /" + String(repeating: "a", count: 20_000))
        let text = try #require(client.readToEnd())
        #expect(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large"))
    }

    @Test("A silent client is closed at its deadline; connections over the bound are closed at once")
    func deadlineAndConnectionBound() throws {
        let limits = MetricsServer.Limits(maxConnections: 2, connectionTimeout: .milliseconds(300))
        let server = try MetricsServer(
            address: ListenAddress(parsing: "0"), limits: limits, metrics: TailMetrics())
        defer { server.shutdown() }
        let first = try SocketClient(host: "127.0.0.1", port: server.port)
        let second = try SocketClient(host: "127.0.0.1", port: server.port)
        // The third is accepted by the kernel and closed by the server without an answer.
        let third = try SocketClient(host: "127.0.0.1", port: server.port)
        #expect(third.readToEnd() == "")
        // The silent ones are closed at their deadline (an empty read, well before the client's 30 s).
        #expect(first.readToEnd() == "")
        #expect(second.readToEnd() == "")
        #expect(try scrape(port: server.port)?.hasPrefix("HTTP/1.1 200 OK") == true)
    }

    @Test("A client trickling bytes is closed at its deadline all the same")
    func trickle() throws {
        let limits = MetricsServer.Limits(connectionTimeout: .milliseconds(300))
        let server = try MetricsServer(
            address: ListenAddress(parsing: "0"), limits: limits, metrics: TailMetrics())
        defer { server.shutdown() }
        let client = try SocketClient(host: "127.0.0.1", port: server.port)
        // One byte of an unfinished header every 50 ms for 1 s: an idle timeout would never fire.
        client.send("GET /metrics HTTP/1.1\r\nX-Slow: ")
        for _ in 0..<20 {
            client.send("a")
            usleep(50_000)
        }
        #expect(client.readToEnd() == "", "closed without an answer, before the client's 30 s")
    }

    @Test("An address in use is an error naming it")
    func addressInUse() throws {
        let server = try MetricsServer(address: ListenAddress(parsing: "0"), metrics: TailMetrics())
        defer { server.shutdown() }
        let error = #expect(throws: TailError.self) {
            try MetricsServer(address: ListenAddress(host: "127.0.0.1", port: server.port), metrics: TailMetrics())
        }
        #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
    }
}

@Suite("Metrics flag")
struct MetricsFlagTests {
    @Test("A malformed --metrics exits 64 (usage) with a message", arguments: [":9108", "9108x", "[::1]", "host:80"])
    func malformed(value: String) throws {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let run = try ProgramRun.run(exe, ["tail", "--metrics", value, "/nonexistent/mail.log"], timeout: .seconds(60))
        let text = run.stderr
        #expect(run.status == 64, "\(text)")
        #expect(text.contains("--metrics '\(value)'"), "\(text)")
    }
}
