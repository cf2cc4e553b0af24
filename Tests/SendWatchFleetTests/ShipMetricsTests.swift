import Foundation
import SendWatchFleet
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch ship --metrics`: the endpoint scraped over HTTP while ship follows a log into a real nats-server.
/// Skipped, saying why, without nats-server.
@Suite(.serialized)
struct ShipMetricsTests {
    /// A loopback port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw NATSTestServerError(message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The samples of one scrape, by their name with labels (`name{label="value"}`).
    static func scrape(port: Int) -> [String: Double] {
        guard let client = try? SocketClient(host: "127.0.0.1", port: port, timeoutSeconds: 5) else { return [:] }
        client.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        guard let text = client.readToEnd(), let body = text.range(of: "\r\n\r\n") else { return [:] }
        var samples: [String: Double] = [:]
        for line in text[body.upperBound...].split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test("ship --metrics serves publishes, acknowledgements, the window and the lag per file")
    func metricsEndpointShowsThePublishing() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try NATSTestServer()
        let log = try ShipTests.plainLog.get()
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try Self.freePort()
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let ship = Process()
        ship.executableURL = exe
        ship.arguments = [
            "ship", "--nats", server.url, "--stream", "SHIP_METRICS", "--subject-prefix", "metrics", "--partitions",
            "4", "--state", state, "--from-start", "--host", "mta1", "--year", "2026", "--metrics", "\(port)",
            "--log-level", "warning", log,
        ]
        ship.standardOutput = FileHandle.nullDevice
        ship.standardError = FileHandle.nullDevice
        try ship.run()
        defer {
            if ship.isRunning { kill(ship.processIdentifier, SIGKILL) }
            ship.waitUntilExit()
        }
        // Following (no --once): ship keeps running once the log is published; scrape until it shows all of it.
        var samples: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            samples = Self.scrape(port: port)
            if samples["sendwatch_ship_acks_total{result=\"stored\"}"] == 1165 { break }
            usleep(50_000)
        }
        #expect(samples["sendwatch_ship_acks_total{result=\"stored\"}"] == 1165)
        #expect(samples["sendwatch_ship_acks_total{result=\"duplicate\"}"] == 0)
        #expect(samples["sendwatch_ship_publishes_total"] == 1165)
        #expect(samples["sendwatch_ship_retries_total"] == 0)
        #expect(samples["sendwatch_ship_outages_total"] == 0)
        #expect(samples["sendwatch_ship_window_pending"] == 0)
        #expect(samples["sendwatch_ship_events_pending"] == 0)
        #expect(samples["sendwatch_input_lines_total"] == 4360)
        #expect(samples["sendwatch_input_lag_bytes{path=\"\(log)\"}"] == 0)
        let size = try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int
        #expect(samples["sendwatch_input_offset_bytes{path=\"\(log)\"}"] == size.map(Double.init))
        kill(ship.processIdentifier, SIGTERM)
        ship.waitUntilExit()
        #expect(ship.terminationStatus == 0)
    }
}
