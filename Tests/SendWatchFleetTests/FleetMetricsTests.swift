import Foundation
import SendWatchFleet
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch detect --metrics` and `sendwatch sink --metrics`: the endpoints scraped over HTTP while the worker
/// reads the two shipped halves of mixed-s11 from a real nats-server, and the sink writes its alerts; and a sink's
/// count of consumers made again, across an outage of a server of its own. Skipped, saying why, without nats-server.
@Suite(.serialized)
struct FleetMetricsTests {
    /// Starts `sendwatch` with `arguments`, its output nowhere.
    static func start(_ arguments: [String]) throws -> Process {
        let p = Process()
        let executable: URL = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        p.executableURL = executable
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Starts `sendwatch sink` on `<lowercased stream>.alerts` of `stream` at `url` (consumer
    /// `<lowercased stream>-sink`, state in `<state>/sink`), writing to `output` and serving its metrics on `port`.
    static func startSink(url: String, stream: String, state: String, output: String, port: Int) throws -> Process {
        try start([
            "sink", "--nats", url, "--alerts-stream", stream, "--alerts-subject", stream.lowercased() + ".alerts",
            "--consumer", stream.lowercased() + "-sink", "--output", output, "--state", state + "/sink", "--metrics",
            "\(port)", "--log-level", "warning",
        ])
    }

    /// Scrapes `port` until `done` holds for the samples or `seconds` pass; the last samples.
    static func scrape(port: Int, seconds: Double, until done: ([String: Double]) -> Bool) -> [String: Double] {
        var samples: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            samples = ShipMetricsTests.scrape(port: port)
            if done(samples) { break }
            usleep(100_000)
        }
        return samples
    }

    /// Publishes `{"record":n}` for each of `numbers` to `remake.alerts` of stream `REMAKE` (made if missing), each
    /// with its message id; tried again for up to 60 s (the ids drop repeats) while a restarted server gets
    /// JetStream ready.
    static func publishRecords(_ numbers: ClosedRange<Int>, url: String) throws {
        let deadline = Date().addingTimeInterval(60)
        var last: (any Error)?
        while Date() < deadline {
            do {
                let client = try JetStreamClient(url: url)
                try client.ensureStream(StreamSpec(name: "REMAKE", subjects: ["remake.alerts"]))
                for i in numbers {
                    let record = Array("{\"record\":\(i)}".utf8)
                    _ = try client.publish(subject: "remake.alerts", bytes: record, messageID: "remake-\(i)").get()
                }
                return
            } catch {
                last = error
                usleep(100_000)
            }
        }
        throw try #require(last, "tried at least once")
    }

    /// Sends SIGTERM to `p` and waits: a clean stop exits 0.
    static func stop(_ p: Process) {
        if p.isRunning { kill(p.processIdentifier, SIGTERM) }
        p.waitUntilExit()
    }

    @Test("detect --metrics and sink --metrics serve lag, events, alert records, acknowledgements and checkpoints")
    func workerAndSinkMetrics() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try DetectTests.shared.get()
        let events = try DetectTests.shipped.get()
        let lastSequence = try JetStreamClient(url: server.url).streamState("FLEET_EVENTS").lastSequence
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }

        // The worker keeps running (no --once); once everything is read, --idle-after 1s releases both hosts.
        let detectPort = try ShipMetricsTests.freePort()
        let detect = try Self.start([
            "detect", "--nats", server.url, "--stream", "FLEET_EVENTS", "--subject-prefix", "fleet.events",
            "--consumer", "metrics", "--alerts-stream", "METRICS", "--alerts-subject", "metrics.alerts", "--state",
            state + "/detect", "--idle-after", "1s", "--metrics", "\(detectPort)", "--log-level", "warning",
        ])
        defer { Self.stop(detect) }
        let d = Self.scrape(port: detectPort, seconds: 300) { s in
            s["sendwatch_detect_events_total"] == Double(events) && s["sendwatch_detect_held_events"] == 0
                && (s["sendwatch_consumer_acks_total{stream=\"FLEET_EVENTS\"}"] ?? 0) >= 1
                && (0..<4).allSatisfy { s["sendwatch_detect_partition_pending_messages{partition=\"\($0)\"}"] == 0 }
        }
        // Per partition (the halves were shipped with --partitions 4): the events taken in equal what the stream
        // holds on that partition's subject, the lag is 0, and the last sequences and event times are the partition's.
        let perSubject = try JetStreamClient(url: server.url).subjectCounts("FLEET_EVENTS", filter: "fleet.events.>")
        #expect(perSubject.count == 4)
        var lastSequences: [Double] = []
        for p in 0..<4 {
            let label = "{partition=\"\(p)\"}"
            #expect(
                d["sendwatch_detect_partition_events_total" + label]
                    == perSubject["fleet.events.\(p)"].map { Double($0) })
            #expect(
                d["sendwatch_detect_partition_messages_total" + label]
                    == d["sendwatch_detect_partition_events_total" + label])
            #expect(d["sendwatch_detect_partition_pending_messages" + label] == 0)
            #expect((d["sendwatch_detect_partition_latest_event_time_seconds" + label] ?? 0) > 1_700_000_000)
            lastSequences.append(d["sendwatch_detect_partition_last_sequence" + label] ?? 0)
        }
        #expect(lastSequences.max() == Double(lastSequence), "one partition holds the stream's last message")
        #expect(Set(lastSequences).count == 4, "each partition's own last message")
        #expect(d["sendwatch_detect_partition_events_total{partition=\"4\"}"] == nil, "no series beyond the partitions")
        let alerts = try JetStreamClient(url: server.url).streamState("METRICS").messages
        #expect(d["sendwatch_detect_events_total"] == Double(events))
        #expect(d["sendwatch_detect_held_events"] == 0)
        #expect(d["sendwatch_detect_undecodable_total"] == 0)
        #expect(d["sendwatch_consumer_pending_messages{stream=\"FLEET_EVENTS\"}"] == 0)
        #expect(d["sendwatch_consumer_last_sequence{stream=\"FLEET_EVENTS\"}"] == Double(lastSequence))
        #expect((d["sendwatch_consumer_acks_total{stream=\"FLEET_EVENTS\"}"] ?? 0) >= 1)
        #expect(d["sendwatch_consumer_redeliveries_total{stream=\"FLEET_EVENTS\"}"] == 0)
        // Remakes depend on timing (an idle fetch ends on the server's answer, just before its deadline, unless that
        // answer is late): served, whatever their number (`FeedRemakeTests` forces one).
        #expect(d["sendwatch_consumer_remakes_total{stream=\"FLEET_EVENTS\"}"] != nil)
        #expect(alerts > 0, "the worker published alert records")
        #expect(d["sendwatch_detect_alert_records_total{result=\"stored\"}"] == Double(alerts))
        #expect(d["sendwatch_detect_alert_records_total{result=\"duplicate\"}"] == 0)
        #expect((d["sendwatch_checkpoints_total"] ?? 0) >= 1)
        #expect(d["sendwatch_fleet_outages_total"] == 0)
        #expect(d["sendwatch_detect_lease_held"] == 1, "the only worker holds its lease")
        #expect(d["sendwatch_detect_lease_changes_total"] == 1)
        Self.stop(detect)
        #expect(detect.terminationStatus == 0)

        let sinkPort = try ShipMetricsTests.freePort()
        let output = state + "/alerts.jsonl"
        let sink = try Self.startSink(url: server.url, stream: "METRICS", state: state, output: output, port: sinkPort)
        defer { Self.stop(sink) }
        let s = Self.scrape(port: sinkPort, seconds: 120) { s in
            s["sendwatch_sink_records_total"] == Double(alerts) && (s["sendwatch_checkpoints_total"] ?? 0) >= 1
                && (s["sendwatch_consumer_acks_total{stream=\"METRICS\"}"] ?? 0) >= 1
        }
        #expect(s["sendwatch_sink_records_total"] == Double(alerts))
        #expect(s["sendwatch_consumer_pending_messages{stream=\"METRICS\"}"] == 0)
        #expect(s["sendwatch_consumer_last_sequence{stream=\"METRICS\"}"] == Double(alerts))
        #expect((s["sendwatch_consumer_acks_total{stream=\"METRICS\"}"] ?? 0) >= 1)
        #expect(s["sendwatch_consumer_redeliveries_total{stream=\"METRICS\"}"] == 0)
        #expect(s["sendwatch_consumer_remakes_total{stream=\"METRICS\"}"] != nil)
        #expect((s["sendwatch_checkpoints_total"] ?? 0) >= 1)
        let size = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int
        #expect(s["sendwatch_sink_output_bytes"] == size.map(Double.init))
        Self.stop(sink)
        #expect(sink.terminationStatus == 0)
    }

    /// What this proves: the served remake count rises across an outage of the broker, and the sink counts the
    /// outage, reconnects and writes what comes after. Not that the outage itself caused the remake: the sink's idle
    /// fetches may remake the consumer on a loaded machine too (that exact path: `FeedRemakeTests`).
    @Test("sink --metrics: the remake count rises across a broker outage, and the sink reconnects")
    func sinkRemakesRiseAcrossAnOutage() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        // Its own server: this test kills it.
        let server = try NATSTestServer()
        let state = try ShipTests.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        try Self.publishRecords(1...3, url: server.url)

        let port = try ShipMetricsTests.freePort()
        let output = state + "/alerts.jsonl"
        let sink = try Self.startSink(url: server.url, stream: "REMAKE", state: state, output: output, port: port)
        defer { Self.stop(sink) }
        let remakes = "sendwatch_consumer_remakes_total{stream=\"REMAKE\"}"
        let caughtUp = Self.scrape(port: port, seconds: 120) { s in
            s["sendwatch_sink_records_total"] == 3 && s[remakes] != nil
        }
        try #require(caughtUp["sendwatch_sink_records_total"] == 3, "the sink wrote the first records")
        #expect(caughtUp["sendwatch_fleet_outages_total"] == 0)

        // A fetch made while the broker is down gets no answer and ends on its own deadline: its pull request may
        // still be live, so its reader is spent. An outage is counted only at a fetch on that spent reader (or on
        // a fetch that failed, which leaves the reader spent too), and the first fetch after reconnecting makes
        // the consumer again. Counted from just before the kill (idle fetches may have made it again already).
        let before = try #require(Self.scrape(port: port, seconds: 60) { $0[remakes] != nil }[remakes])
        server.kill()
        let down = Self.scrape(port: port, seconds: 120) { s in (s["sendwatch_fleet_outages_total"] ?? 0) >= 1 }
        #expect((down["sendwatch_fleet_outages_total"] ?? 0) >= 1, "the sink saw the broker down")
        #expect(sink.isRunning)
        try server.start()
        try Self.publishRecords(4...5, url: server.url)
        let s = Self.scrape(port: port, seconds: 120) { s in
            s["sendwatch_sink_records_total"] == 5 && (s[remakes] ?? 0) >= before + 1
        }
        #expect((s[remakes] ?? 0) >= before + 1, "the remake count rose across the outage")
        #expect(s["sendwatch_sink_records_total"] == 5)
        #expect(s["sendwatch_consumer_last_sequence{stream=\"REMAKE\"}"] == 5)
        #expect(s["sendwatch_consumer_redeliveries_total{stream=\"REMAKE\"}"] == 0)
        Self.stop(sink)
        #expect(sink.terminationStatus == 0)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (1...5).map { "{\"record\":\($0)}" }, "each record once, in order")
    }
}
