import Foundation
import Testing

/// Rotated inputs named in any order, inputs out of time order, and far-future lines (issue 14, items 1 and 10).
@Suite struct InputTimeOrderTests {
    /// The decompressed lines of a bundled dataset.
    static func lines(of dataset: String) throws -> [Substring] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zstd", "-dc", TestPaths.dataset(dataset)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()
    }

    static func write(_ lines: some Sequence<Substring>, to url: URL, gzip: Bool = false) throws {
        let text = lines.map { $0 + "\n" }.joined()
        guard gzip else {
            try Data(text.utf8).write(to: url)
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-c"]
        let input = Pipe()
        let out = Pipe()
        process.standardInput = input
        process.standardOutput = out
        try process.run()
        // Written on another thread: gzip's output pipe would fill while we still write its input.
        let writer = Thread { [data = Data(text.utf8)] in
            input.fileHandleForWriting.write(data)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let compressed = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try compressed.write(to: url)
    }

    @Test("A rotated set named newest first (as mail.log* expands) gives the alerts of the oldest-first order")
    func rotatedNewestFirst() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try Self.lines(of: "mixed-s11.postfix.log.zst")
        let third = all.count / 3
        let whole = dir.appendingPathComponent("whole.log")
        try Self.write(all, to: whole)
        let oldest = dir.appendingPathComponent("mail.log.2.gz")
        let middle = dir.appendingPathComponent("mail.log.1")
        let live = dir.appendingPathComponent("mail.log")
        try Self.write(all[..<third], to: oldest, gzip: true)
        try Self.write(all[third..<(2 * third)], to: middle)
        try Self.write(all[(2 * third)...], to: live)

        let reference = try CommandLine.run(["replay", "--year", "2026", whole.path])
        let inOrder = try CommandLine.run(["replay", "--year", "2026", oldest.path, middle.path, live.path])
        let newestFirst = try CommandLine.run(["replay", "--year", "2026", live.path, middle.path, oldest.path])
        #expect(reference.status == 0 && inOrder.status == 0 && newestFirst.status == 0)
        #expect(reference.stdout.split(separator: "\n").count > 10)
        #expect(inOrder.stdout == reference.stdout)
        #expect(newestFirst.stdout == reference.stdout)
        #expect(!inOrder.stderr.contains("reading rotated files"))
        #expect(
            newestFirst.stderr.contains(
                "sendwatch: reading rotated files oldest first: \(oldest.path) \(middle.path) \(live.path)"))
        #expect(!newestFirst.stderr.contains("warning"))
    }

    @Test("A run that drops a large share of its events as late says so on stderr, with the count and share")
    func lateWarning() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try Self.lines(of: "mixed-s11.postfix.log.zst")
        let half = all.count / 2
        // Two files whose names say nothing about their order, given newest first.
        let first = dir.appendingPathComponent("early.log")
        let second = dir.appendingPathComponent("late.log")
        try Self.write(all[..<half], to: first)
        try Self.write(all[half...], to: second)
        let r = try CommandLine.run(["replay", "--year", "2026", second.path, first.path])
        #expect(r.status == 0)
        let warning = try #require(r.stderr.split(separator: "\n").first { $0.contains("dropped as late") })
        #expect(warning.hasPrefix("sendwatch: warning: "))
        #expect(warning.contains(" %) were dropped as late (more than 5m behind the newest event)"))
        #expect(warning.contains("inputs not in time order"))
        // In order, no warning.
        let ordered = try CommandLine.run(["replay", "--year", "2026", first.path, second.path])
        #expect(!ordered.stderr.contains("warning"))
    }

    @Test("Three far-future lines from one host in the middle of a log give the alerts of the log without them")
    func farFutureLines() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = try Self.lines(of: "mixed-s13.jsonl.log.zst")
        let clean = dir.appendingPathComponent("clean.jsonl")
        try Self.write(all, to: clean)
        var forged = Array(all)
        let middle = forged.count / 2
        let lines = (1...3).map { i -> Substring in
            """
            {"ts":"2031-06-0\(i)T12:00:00Z","account":"mallory","sender":"mallory@example.com",\
            "to":["a@example.org","b@example.org","c@example.org"],"subject":"Hello","host":"mx-forged",\
            "message_id":"<forged-\(i)@example.com>"}
            """
        }
        forged.insert(contentsOf: lines, at: middle)
        let dirty = dir.appendingPathComponent("forged.jsonl")
        try Self.write(forged, to: dirty)
        let reference = try CommandLine.run(["replay", clean.path])
        let r = try CommandLine.run(["replay", dirty.path])
        #expect(reference.status == 0 && r.status == 0)
        #expect(reference.stdout.split(separator: "\n").count > 10)
        #expect(r.stdout == reference.stdout)
        #expect(r.stderr.contains("0 late events dropped, 9 time outliers"))
    }
}
