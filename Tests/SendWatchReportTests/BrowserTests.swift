import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

/// Debian's `chromium`, run headless with a temporary profile and a hard time limit.
enum Chromium {
    /// The installed binary, or nil (the browser tests are then skipped).
    static let binary: String? = {
        var candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"]
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(dir)/chromium")
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let skipMessage: Comment =
        "chromium is not installed: run scripts/install-browser (Debian: apt-get install chromium) to run the browser tests"

    /// How long one browser run may take before it is killed: loading a report takes about a second; the
    /// margin is for a machine busy with parallel builds.
    static let timeout: Duration = .seconds(20)

    /// Runs chromium headless on `url` with `mode` arguments (`--dump-dom`, `--screenshot=...`) and a fresh
    /// user-data-dir, which is removed afterwards. The run is wrapped in `timeout(1)`, which kills chromium's
    /// whole process group (its renderer and zygote children too) when the time is up.
    static func run(_ url: URL, _ mode: [String], windowSize: String = "1280,1600") throws -> ProgramRun {
        let binary = try #require(binary)
        let profile = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: profile) }
        let seconds = String(timeout.components.seconds)
        let arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions", "--no-first-run",
                "--user-data-dir=\(profile.path)", "--window-size=\(windowSize)", "--hide-scrollbars",
            ] + mode + [url.absoluteString]
        let timeoutTool = "/usr/bin/timeout"
        let r: ProgramRun
        if FileManager.default.isExecutableFile(atPath: timeoutTool) {
            r = try ProgramRun.run(
                URL(fileURLWithPath: timeoutTool), ["--kill-after=2", seconds, binary] + arguments,
                timeout: timeout + .seconds(5))
        } else {
            r = try ProgramRun.run(URL(fileURLWithPath: binary), arguments, timeout: timeout)
        }
        #expect(!r.timedOut && r.status != 124 && r.status != 137, "chromium did not finish within \(timeout)")
        return r
    }

    /// The document after the page's scripts ran, as chromium serialises it.
    static func dumpDOM(_ file: URL) throws -> String {
        let r = try run(file, ["--dump-dom"])
        #expect(r.status == 0, "chromium --dump-dom failed: \(r.stderr.suffix(400))")
        return String(decoding: r.stdout, as: UTF8.self)
    }
}

/// The attributes of the `<body>` start tag of a dumped document.
func bodyTag(_ dom: String) -> String {
    guard let start = dom.range(of: "<body"), let end = dom[start.upperBound...].firstIndex(of: ">") else { return "" }
    return String(dom[start.lowerBound...end])
}

func occurrences(_ needle: String, in haystack: String) -> Int { haystack.components(separatedBy: needle).count - 1 }

@Suite(.serialized, .enabled(if: Chromium.binary != nil, Chromium.skipMessage))
struct BrowserTests {
    /// Replays a bundled dataset with the built CLI and writes its report (with `--events`).
    func makeReport(_ dataset: String, in dir: URL, events: Bool = true) throws -> URL {
        let alerts = dir.appendingPathComponent("\(dataset).alerts.jsonl")
        let replay = try SendWatchCLI.run([
            "replay", "--year", "2026", "--output", alerts.path, TestPaths.dataset(dataset),
        ])
        #expect(replay.status == 0, "\(replay.stderr)")
        let page = dir.appendingPathComponent("\(dataset).html")
        var arguments = ["report", alerts.path, "--output", page.path]
        if events { arguments += ["--year", "2026", "--events", TestPaths.dataset(dataset)] }
        let report = try SendWatchCLI.run(arguments)
        #expect(report.status == 0, "\(report.stderr)")
        return page
    }

    @Test("Headless Chromium loads a bundled dataset's report: no script errors, timeline, incidents, graph nodes")
    func loadsReport() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (dataset, events) in [("mixed-s13.jsonl.log.zst", true), ("mixed-s12.exim.log.zst", false)] {
            let page = try makeReport(dataset, in: dir, events: events)
            let dom = try Chromium.dumpDOM(page)
            let body = bodyTag(dom)
            #expect(body.contains("data-script-errors=\"0\""), "\(dataset): \(body)")
            #expect(body.contains("data-report-ready=\"1\""), "\(dataset): the page's script did not finish: \(body)")
            #expect(dom.contains("id=\"timeline-svg\""))
            #expect(
                occurrences("class=\"tl-row\"", in: dom) >= 2,
                "\(dataset): timeline rows (incidents, which join alerts)")
            let incidents = occurrences("<article class=\"incident", in: dom)
            #expect(incidents >= 2, "\(dataset): incident sections")
            #expect(occurrences("class=\"gn account", in: dom) >= 2, "\(dataset): account nodes")
            #expect(occurrences("class=\"gn phone\"", in: dom) + occurrences("class=\"gn domain\"", in: dom) >= 2)
            #expect(dom.contains("<mark class=\"ind ind-"))
            // The script ran: the controls are shown and the filter counted the sections.
            #expect(dom.contains("<nav id=\"controls\">"))
            #expect(dom.contains("\(incidents) of \(incidents) detailed incidents shown"))
            // Each incident names its id and its alerts; submitters and what to search the logs for are shown.
            #expect(occurrences("class=\"mono incident-id\"", in: dom) == incidents, "\(dataset): incident ids")
            #expect(occurrences("<ul class=\"plain alert-ids\">", in: dom) == incidents, "\(dataset): alert lists")
            #expect(dom.contains("<div class=\"submitters\">"), "\(dataset): submitters")
            #expect(dom.contains("<ul class=\"plain mono wrap client-ips\">"), "\(dataset): client IPs")
            #expect(dom.contains("<div class=\"deliveries\">"), "\(dataset): search terms")
            #expect(dom.contains("<ul class=\"plain mono wrap recipients\">"), "\(dataset): recipients")
            #expect(dom.contains("<ul class=\"plain mono wrap recipient-domains\">"), "\(dataset): recipient domains")
            // Exim logs carry message ids of the MTA (queue ids); JSON lines have none.
            #expect(
                dom.contains("<ul class=\"plain mono wrap queue-ids\">") == dataset.contains("exim"),
                "\(dataset): queue ids")
        }
    }

    @Test("A script error on the page is seen by the test (the check can fail)")
    func seesScriptErrors() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = try makeReport("mixed-s13.jsonl.log.zst", in: dir, events: false)
        var html = try String(contentsOf: page, encoding: .utf8)
        html = html.replacingOccurrences(of: "</body>", with: "<script>undefinedFunction()</script></body>")
        try html.write(to: page, atomically: true, encoding: .utf8)
        let body = bodyTag(try Chromium.dumpDOM(page))
        #expect(body.contains("data-script-errors=\"1\""), "\(body)")
        #expect(body.contains("undefinedFunction"))
    }

    @Test("Hostile names do not run as script in the browser")
    func hostileInBrowser() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let attack =
            "<script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
        let lines = [
            AlertLines.alert(
                id: "sw-1", kind: "young_account_burst", accounts: [attack], subject: attack + " +1 (888) 555-0178"),
            AlertLines.alert(
                id: attack, at: 30, accounts: ["b", attack], template: .init(id: attack, text: attack + " <*>"),
                slotValues: [attack]),
        ]
        let alerts = dir.appendingPathComponent("hostile.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: alerts, atomically: true, encoding: .utf8)
        let page = dir.appendingPathComponent("hostile.html")
        let r = try SendWatchCLI.run(["report", alerts.path, "--output", page.path])
        #expect(r.status == 0, "\(r.stderr)")
        let dom = try Chromium.dumpDOM(page)
        let body = bodyTag(dom)
        #expect(!body.contains("data-pwned"), "\(body)")
        #expect(body.contains("data-report-ready=\"1\""))
        #expect(dom.contains("&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;"))
    }

    @Test("A screenshot of a report is a 1280 px wide PNG")
    func screenshot() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = try makeReport("mixed-s13.jsonl.log.zst", in: dir)
        let png = dir.appendingPathComponent("shot.png")
        let r = try Chromium.run(page, ["--screenshot=\(png.path)"], windowSize: "1280,1200")
        #expect(r.status == 0, "\(r.stderr.suffix(400))")
        let bytes = [UInt8](try Data(contentsOf: png))
        try #require(bytes.count > 24)
        #expect(bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280)
    }
}

@Suite struct ReportCommandTests {
    @Test("report writes the same bytes in two runs (separate processes, so different hash seeds)")
    func deterministicAcrossProcesses() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let dataset = TestPaths.dataset("mixed-s13.jsonl.log.zst")
        let alerts = dir.appendingPathComponent("a.jsonl")
        #expect(try SendWatchCLI.run(["replay", "--output", alerts.path, dataset]).status == 0)
        var pages: [Data] = []
        for k in 0..<2 {
            let page = dir.appendingPathComponent("r\(k).html")
            let r = try SendWatchCLI.run(["report", alerts.path, "--events", dataset, "--output", page.path])
            #expect(r.status == 0, "\(r.stderr)")
            pages.append(try Data(contentsOf: page))
        }
        #expect(pages[0].count > 50_000)
        #expect(pages[0] == pages[1])
    }

    @Test("report refuses an alert file of which no line is an alert record (OCSF output), exit status 2, no page")
    func noAlertRecords() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alerts = dir.appendingPathComponent("o.jsonl")
        let ocsf = #"{"class_uid":2004,"category_uid":2,"activity_id":1,"finding_info":{"uid":"sw-1"}}"#
        try (ocsf + "\n" + ocsf + "\n").write(to: alerts, atomically: true, encoding: .utf8)
        let page = dir.appendingPathComponent("o.html")
        let r = try SendWatchCLI.run(["report", alerts.path, "--output", page.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("none of the 2 non-blank lines is a SendWatch alert record"), "\(r.stderr)")
        #expect(r.stderr.contains("not OCSF records"))
        #expect(!FileManager.default.fileExists(atPath: page.path))
    }

    @Test("report refuses an alert file of another schema version with exit status 2")
    func unsupportedVersion() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alerts = dir.appendingPathComponent("v6.jsonl")
        try "{\"v\":6,\"id\":\"x\"}\n".write(to: alerts, atomically: true, encoding: .utf8)
        let r = try SendWatchCLI.run(["report", alerts.path, "--output", dir.appendingPathComponent("x.html").path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("alert schema version 6 is not supported"))
    }
}
