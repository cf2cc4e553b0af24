import Foundation
import SendWatchFleet
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Several workers end to end against a real nats-server: three `sendwatch forward` workers share the four
/// partitions of the events stream, two agents ship the two halves of mixed-s11, and one `detect
/// --forwarded-partitions 4` reads what the workers forwarded; the alerts equal one `sendwatch replay` of the two
/// logs. Skipped, saying why, without nats-server.
@Suite(.serialized)
struct ForwardTests {
    /// Partitions each worker on `ports` holds, by port, as its metrics say.
    static func held(ports: [Int]) -> [Int: Int] {
        var held: [Int: Int] = [:]
        for port in ports {
            let samples = ShipMetricsTests.scrape(port: port)
            held[port] = (0..<4).reduce(0) {
                $0 + Int(samples["sendwatch_forward_partition_held{partition=\"\($1)\"}"] ?? 0)
            }
        }
        return held
    }

    @Test("3 forward workers, 2 agents and a second-stage detect give replay's alerts, each once")
    func threeWorkersGiveReplaysAlerts() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try DetectTests.shared.get()
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        var workers: [(process: Process, port: Int, log: String)] = []
        defer {
            for w in workers where w.process.isRunning {
                kill(w.process.processIdentifier, SIGKILL)
                w.process.waitUntilExit()
            }
        }
        for i in 0..<3 {
            let port = try ShipMetricsTests.freePort()
            let p = Process()
            p.executableURL = exe
            p.arguments = [
                "forward", "--nats", server.url, "--stream", "FWD_EVENTS", "--subject-prefix", "fwd.events",
                "--partitions", "4", "--consumer", "fwd", "--forward-stream", "FWD_FORWARDED", "--forward-prefix",
                "fwd.forwarded", "--lease-bucket", "FWD_LEASES", "--lease-time", "2s", "--metrics", "\(port)",
            ]
            let log = state + "/forward\(i).stderr"
            try DetectTests.start(p, stderr: log)
            workers.append((p, port, log))
        }
        // Nothing is shipped before every worker holds a share: 2, 1 and 1 of the 4 partitions.
        let ports = workers.map(\.port)
        var shares: [Int: Int] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            shares = Self.held(ports: ports)
            if shares.values.sorted() == [1, 1, 2] { break }
            usleep(100_000)
        }
        #expect(shares.values.sorted() == [1, 1, 2], "partitions held per worker: \(shares)")
        for w in workers { #expect(w.process.isRunning, "forward worker exited: see \(w.log)") }

        let events = try DetectTests.ship(url: server.url, stream: "FWD_EVENTS", prefix: "fwd.events")
        #expect(events > 10_000)
        let detect = Process()
        detect.executableURL = exe
        detect.arguments = [
            "detect", "--nats", server.url, "--stream", "FWD_FORWARDED", "--subject-prefix", "fwd.forwarded",
            "--forwarded-partitions", "4", "--source-stream", "FWD_EVENTS", "--source-subject-prefix", "fwd.events",
            "--consumer", "fwdetect", "--alerts-stream", "FWDETECT", "--alerts-subject", "fwdetect.alerts",
            "--lease-bucket", "FWD_LEASES", "--state", state + "/detect", "--hosts", "2", "--once", "--log-level",
            "warning",
        ]
        try DetectTests.start(detect, stderr: state + "/detect.stderr")
        detect.waitUntilExit()
        let said = (try? String(contentsOfFile: state + "/detect.stderr", encoding: .utf8)) ?? ""
        #expect(detect.terminationStatus == 0, "detect: \(said.suffix(2000))")
        #expect(
            try DetectTests.sink(
                url: server.url, name: "fwdetect", output: state + "/alerts.jsonl", state: state + "/sink") == 0)
        try DetectTests.expectSameAlerts(output: state + "/alerts.jsonl", alertsStream: "FWDETECT", url: server.url)

        // Each event forwarded once, and each worker forwarded some.
        let counts = try JetStreamClient(url: server.url).subjectCounts("FWD_FORWARDED", filter: "fwd.forwarded.e.>")
        #expect(counts.values.reduce(0, +) == events)
        for w in workers {
            let samples = ShipMetricsTests.scrape(port: w.port)
            #expect((samples["sendwatch_forward_events_total"] ?? 0) > 0, "worker on \(w.port) forwarded nothing")
            #expect(samples["sendwatch_forward_live_workers"] == 3)
        }
        for w in workers {
            kill(w.process.processIdentifier, SIGTERM)
            w.process.waitUntilExit()
            #expect(w.process.terminationStatus == 0, "see \(w.log)")
        }
    }
}
