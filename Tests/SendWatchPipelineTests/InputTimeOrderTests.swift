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
        // One file whose second half is older than its first (two days pasted together in the wrong order).
        let pasted = dir.appendingPathComponent("pasted.log")
        try Self.write(all[half...] + all[..<half], to: pasted)
        let r = try CommandLine.run(["replay", "--year", "2026", pasted.path])
        #expect(r.status == 0)
        let warning = try #require(r.stderr.split(separator: "\n").first { $0.contains("dropped as late") })
        #expect(warning.hasPrefix("sendwatch: warning: "))
        #expect(warning.contains(" %) were dropped as late (more than 5m behind the newest event)"))
        #expect(warning.contains("lines not in time order"))
        // The two halves as two files, in either order, are merged by time: no warning.
        let first = dir.appendingPathComponent("early.log")
        let second = dir.appendingPathComponent("late.log")
        try Self.write(all[..<half], to: first)
        try Self.write(all[half...], to: second)
        let ordered = try CommandLine.run(["replay", "--year", "2026", first.path, second.path])
        let reversed = try CommandLine.run(["replay", "--year", "2026", second.path, first.path])
        #expect(!ordered.stderr.contains("warning") && !reversed.stderr.contains("warning"))
        #expect(reversed.stdout == ordered.stdout)
    }

    /// `lines` split into two hosts' logs: each message (queue id) goes to `mx1` or `mx2`, and lines without a
    /// queue id alternate. Each host's lines keep their order; `mx2`'s lines name their host.
    static func splitIntoHosts(_ lines: [Substring]) -> (mx1: [Substring], mx2: [Substring]) {
        var mx1: [Substring] = []
        var mx2: [Substring] = []
        for (index, line) in lines.enumerated() {
            var second = index % 2 == 1
            if let colon = line.range(of: "]: ") {
                let rest = line[colon.upperBound...]
                let id = rest.prefix { $0.isHexDigit }
                if id.count >= 6, rest.dropFirst(id.count).first == ":" {
                    second = id.utf8.reduce(0) { $0 &+ Int($1) } % 2 == 1
                }
            }
            if second {
                mx2.append(Substring(line.replacingOccurrences(of: " mx1 postfix/", with: " mx2 postfix/")))
            } else {
                mx1.append(line)
            }
        }
        return (mx1, mx2)
    }

    /// A central syslog file of two hosts' logs: their lines merged by timestamp (`Mmm dd HH:MM:SS`, one month),
    /// `a`'s first on equal times, as a syslog server that received them in that order writes them.
    static func central(_ a: [Substring], _ b: [Substring]) -> [Substring] {
        var out: [Substring] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].prefix(15) <= b[j].prefix(15)) {
                out.append(a[i])
                i += 1
            } else {
                out.append(b[j])
                j += 1
            }
        }
        return out
    }

    @Test("Two hosts' logs given as two files (or one on standard input) give the alerts of their central log")
    func separateHostLogs() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (mx1, mx2) = Self.splitIntoHosts(try Self.lines(of: "mixed-s11.postfix.log.zst"))
        let central = dir.appendingPathComponent("central.log")
        try Self.write(Self.central(mx1, mx2), to: central)
        // Two hosts' live logs: same name in two directories, so not rotations of one log.
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("mx1"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("mx2"), withIntermediateDirectories: true)
        let first = dir.appendingPathComponent("mx1/mail.log")
        let second = dir.appendingPathComponent("mx2/mail.log.gz")
        try Self.write(mx1, to: first)
        try Self.write(mx2, to: second, gzip: true)

        let reference = try CommandLine.run(["replay", "--year", "2026", central.path])
        #expect(reference.status == 0)
        #expect(reference.stdout.split(separator: "\n").count > 10)
        let separate = try CommandLine.run(["replay", "--year", "2026", first.path, second.path])
        #expect(separate.status == 0)
        #expect(separate.stdout == reference.stdout)
        #expect(!separate.stderr.contains("warning"), "\(separate.stderr)")
        #expect(separate.stderr.contains("0 late events dropped"))
        // The same with the second host's log on standard input (from a file: the alerts fill the output pipe
        // long before the input is written).
        let plain = dir.appendingPathComponent("mx2.log")
        try Self.write(mx2, to: plain)
        let process = Process()
        let executable: URL = try #require(CommandLine.executable)
        process.executableURL = executable
        process.arguments = ["replay", "--year", "2026", first.path, "-"]
        process.standardInput = try FileHandle(forReadingFrom: plain)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let piped = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(piped == reference.stdout)
        // The events too: every event of both hosts, in time order.
        let events = try CommandLine.run(["events", "--year", "2026", first.path, second.path])
        let centralEvents = try CommandLine.run(["events", "--year", "2026", central.path])
        #expect(events.stdout == centralEvents.stdout)
    }

    @Test("More separate logs than are merged at once is a usage error that names the bound")
    func tooManyLogs() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        for i in 0...32 {
            let url = dir.appendingPathComponent("host\(i).log")
            try Data().write(to: url)
            paths.append(url.path)
        }
        let r = try CommandLine.run(["replay"] + paths)
        #expect(r.status == 64)
        #expect(r.stderr.contains("33 separate logs given"))
        #expect(r.stderr.contains("at most 32 are merged by time in one run"))
        #expect(r.stdout.isEmpty)
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
