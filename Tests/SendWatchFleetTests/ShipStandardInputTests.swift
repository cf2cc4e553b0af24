import Foundation
import SendWatchFleet
import SendWatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `sendwatch ship -`: syslog lines from a pipe, as `journalctl -f -o short … | sendwatch ship -` gives them,
/// against a real nats-server; the stream read back is compared with `sendwatch events -` of the same bytes.
/// Skipped, saying why, without nats-server.
@Suite(.serialized)
struct ShipStandardInputTests {
    static let shared: Result<NATSTestServer, any Error> = Result { try NATSTestServer() }

    /// Runs `sendwatch ARGS`, writing `input` to its standard input in chunks of `chunkBytes` with a pause of
    /// `pauseMicroseconds` between them (a live pipe), then closing it. Standard error is returned.
    static func run(
        _ arguments: [String], input: Data, chunkBytes: Int = 1 << 20, pauseMicroseconds: UInt32 = 0
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let exe = try #require(sendwatchExecutable, "the sendwatch executable is built beside the tests")
        let p = Process()
        p.executableURL = exe
        p.arguments = arguments
        let stdin = Pipe()
        let out = Pipe()
        let err = Pipe()
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read the outputs on other threads while this one writes, so that no pipe fills up.
        nonisolated(unsafe) var o = Data()
        nonisolated(unsafe) var e = Data()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { o = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { e = err.fileHandleForReading.readDataToEndOfFile() }
        var offset = 0
        while offset < input.count {
            let end = min(offset + chunkBytes, input.count)
            stdin.fileHandleForWriting.write(input.subdata(in: offset..<end))
            offset = end
            if pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
        }
        try stdin.fileHandleForWriting.close()
        readers.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// The bundled real Postfix log (4360 year-less syslog lines, 1165 events).
    static func realLog() throws -> Data {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../datasets/real-postfix-3.7.postfix.log.zst"
        ).standardized.path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["zstd", "-d", "-q", "-c", source]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NATSTestServerError(message: "zstd failed") }
        return data
    }

    static func tempDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/sendwatch-ship-stdin-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw NATSTestServerError(message: "mkdtemp failed") }
        return String(cString: made)
    }

    @Test("ship - publishes the events of a short input when standard input ends (the parsers are flushed)")
    func shortInputIsFlushedAtTheEnd() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        // 12 lines, 2 events: fewer lines than format detection decides on, so the parsers still hold them all
        // when the pipe closes.
        let lines = try Self.realLog().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let input = Data(lines.prefix(12).joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")])
        let reference = try Self.run(["events", "--year", "2026", "-"], input: input)
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try ShipTests.shipRecords(reference.stdout.split(separator: "\n"))
        try #require(expected.count == 2)
        let r = try Self.run(
            [
                "ship", "--nats", server.url, "--stream", "SHIP_SHORT", "--subject-prefix", "short", "--partitions",
                "2", "--host", "mta1", "--year", "2026", "--log-level", "warning", "-",
            ], input: input)
        #expect(r.status == 0, "\(r.stderr)")
        let got = try ShipTests.readBack(url: server.url, prefix: "short", expected: 2)
        #expect(got.map { String(decoding: $0.payload, as: UTF8.self) } == expected)
    }

    @Test("ship - says how many lines it skipped for their length, and publishes the rest")
    func overlongLinesAreSaid() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        let lines = try Self.realLog().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // A line of 70,000 bytes (over the default input.max_line_bytes of 65,536) among the first 12.
        var bytes = [UInt8]()
        for line in lines.prefix(6) { bytes += line + [UInt8(ascii: "\n")] }
        bytes += Array("Nov 28 10:00:00 mx1 other[1]: ".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: 70_000) + [UInt8(ascii: "\n")]
        for line in lines.dropFirst(6).prefix(6) { bytes += line + [UInt8(ascii: "\n")] }
        let input = Data(bytes)
        let r = try Self.run(
            [
                "ship", "--nats", server.url, "--stream", "SHIP_LONG", "--subject-prefix", "long", "--partitions",
                "2", "--host", "mta1", "--year", "2026", "--log-level", "warning", "-",
            ], input: input)
        #expect(r.status == 0, "\(r.stderr)")
        // Before: nothing on standard error, the line gone without a word.
        #expect(r.stderr.contains("1 line longer than input.max_line_bytes skipped (line_too_long)"), "\(r.stderr)")
        let got = try ShipTests.readBack(url: server.url, prefix: "long", expected: 2)
        #expect(got.count == 2)
    }

    @Test("journalctl -f style: ship - reads syslog from a live pipe without --year and reaches the stream once")
    func livePipeReachesTheStreamExactlyOnce() throws {
        if let reason = NATSTestServer.missingReason { return print("skipped: \(reason)") }
        let server = try Self.shared.get()
        let log = try Self.realLog()
        // The reference takes the same year fallback (standard input has no modification time).
        let reference = try Self.run(["events", "-"], input: log)
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try ShipTests.shipRecords(reference.stdout.split(separator: "\n"))
        #expect(expected.count == 1165)
        let state = try Self.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: state) }
        // Written in 16 KiB pieces, 5 ms apart: a pipe that delivers as a journal does, not a file at once.
        let r = try Self.run(
            [
                "ship", "--nats", server.url, "--stream", "SHIP_PIPE", "--subject-prefix", "pipe", "--partitions",
                "4", "--host", "mta1", "--state", state, "--checkpoint-interval", "50ms", "--log-level", "info", "-",
            ], input: log, chunkBytes: 16 * 1024, pauseMicroseconds: 5_000)
        #expect(r.status == 0, "\(r.stderr)")
        let got = try ShipTests.readBack(url: server.url, prefix: "pipe", expected: expected.count)
        #expect(got.count == expected.count)
        let lines = got.map { String(decoding: $0.payload, as: UTF8.self) }
        let firstDifference = zip(lines, expected).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(
            firstDifference == nil,
            "event \(firstDifference?.offset ?? -1) differs from sendwatch events - with its key")
        #expect(Set(got.compactMap(\.messageID)).count == expected.count)
        let client = try JetStreamClient(url: server.url)
        #expect(try client.streamState("SHIP_PIPE").messages == UInt64(expected.count))
    }
}
