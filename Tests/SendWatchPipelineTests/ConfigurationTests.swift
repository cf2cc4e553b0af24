import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchFormats
import SendWatchPipeline
import Testing

@Suite struct ConfigurationTests {
    @Test("The printed defaults load back to the defaults")
    func defaultsRoundTrip() throws {
        let loaded = try Configuration.load(yaml: Configuration.defaultsYAML)
        let defaults = Configuration()
        #expect(loaded.format == defaults.format)
        #expect(loaded.maxLineBytes == defaults.maxLineBytes)
        #expect(loaded.timezone == defaults.timezone)
        #expect(loaded.year == defaults.year)
        #expect(loaded.formats.accountHeader == defaults.formats.accountHeader)
        #expect(loaded.formats.templateHeader == defaults.formats.templateHeader)
        #expect(loaded.formats.maxOpenMessages == defaults.formats.maxOpenMessages)
        #expect(loaded.formats.openMessageTimeoutSeconds == defaults.formats.openMessageTimeoutSeconds)
        #expect(loaded.jsonFields == defaults.jsonFields)
    }

    @Test("An empty file is the defaults")
    func empty() throws {
        let c = try Configuration.load(yaml: "")
        #expect(c.maxLineBytes == 65_536)
    }

    @Test("Values are applied")
    func values() throws {
        let c = try Configuration.load(
            yaml: """
                input: {format: exim, max_line_bytes: 4096, timezone: Europe/Berlin, year: 2025}
                accounts: {account_header: X-Tenant, template_header: X-Notification-Type}
                messages: {max_open: 1000, open_timeout: 2h30m}
                """)
        #expect(c.format == .exim)
        #expect(c.maxLineBytes == 4096)
        #expect(c.localTimeZone != nil)
        #expect(c.year == 2025)
        #expect(c.formats.accountHeader == "X-Tenant")
        #expect(c.formats.templateHeader == "X-Notification-Type")
        #expect(c.formats.maxOpenMessages == 1000)
        #expect(c.formats.openMessageTimeoutSeconds == 9000)
    }

    @Test(
        "Unknown keys and bad values are rejected, each by its name",
        arguments: [
            ("inputs: {}", "inputs: unknown key"),
            ("input: {formt: exim}", "input.formt: unknown key"),
            ("input: {format: sendmail}", "input.format: expected auto, postfix, exim or jsonl, got 'sendmail'"),
            ("input: {max_line_bytes: ten}", "input.max_line_bytes: expected an integer"),
            ("input: {max_line_bytes: 0}", "input.max_line_bytes: expected an integer"),
            ("input: {timezone: Mars/Olympus}", "input.timezone: 'Mars/Olympus'"),
            ("input: {year: 1970}", "input.year: expected an integer from 1990 to 2200, or null, got '1970'"),
            ("detect: {max_alert_accounts: 4097}", "detect.max_alert_accounts: expected an integer from 1 to 4096"),
            (
                "detect: {warmup: 99999999999s}",
                "detect.warmup: expected a duration like 30m, 6h or 7d from 0s to 3650d"
            ),
            ("rules: {template_swarm: {windw: 1h}}", "rules.template_swarm.windw: unknown key"),
            ("rules: {no_such_rule: {enabled: true}}", "rules.no_such_rule: unknown key"),
            (
                "rules: {slot_content: {enabled: maybe}}",
                "rules.slot_content.enabled: expected true or false, got 'maybe'"
            ),
            ("messages: {open_timeout: soon}", "messages.open_timeout: expected a duration"),
            (
                "accounts: {account_header: 'X Account'}",
                "accounts.account_header: 'X Account' is not a header field name"
            ),
            ("jsonl: {fields: {tenant: x}}", "jsonl.fields.tenant: unknown key"),
            ("jsonl: {fields: {ts: null}}", "jsonl.fields.ts: a send needs a time"),
            ("jsonl: {fields: {subject: 'a..b'}}", "jsonl.fields.subject: 'a..b' is not a dotted path"),
            ("input: [1, 2]", "input: expected a mapping"),
            ("input: {format: exim, format: postfix}", "duplicated key"),
            ("input: {format: [exim]}", "input.format: expected a single value"),
            ("{{{", "not valid YAML"),
            // Yams quotes the offending line, here an empty one, above the caret: the problem stays in the message.
            (
                "a: [1,\n\n",
                "not valid YAML: 3:1: error: parser: while parsing a flow node in line 3, column 1: "
                    + "did not find expected node content"
            ),
            ("a: [\n    ", "did not find expected node content"),
            ("templates: {max_tokens: 1}", "templates.max_tokens: expected an integer from 2 to 1024"),
        ])
    func rejected(yaml: String, message: String) {
        #expect {
            _ = try Configuration.load(yaml: yaml)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.problems.contains { $0.hasPrefix(message) || $0.contains(message) }
        }
    }

    @Test(
        "An unknown key names the nearest known key, or nothing when none is near",
        arguments: [
            ("detect: {warmpu: 1h}", "detect.warmpu: unknown key (did you mean detect.warmup?)"),
            ("input: {formt: exim}", "input.formt: unknown key (did you mean input.format?)"),
            ("inputs: {}", "inputs: unknown key (did you mean input?)"),
            ("warmup: 1h", "warmup: unknown key (did you mean detect.warmup?)"),
            (
                "rules: {template_swarm: {windw: 1h}}",
                "rules.template_swarm.windw: unknown key (did you mean rules.template_swarm.window?)"
            ),
            ("input: {colour: blue}", "input.colour: unknown key"),
            ("rules: {no_such_rule: {enabled: true}}", "rules.no_such_rule: unknown key"),
            ("x: 1", "x: unknown key"),
        ])
    func suggestion(yaml: String, message: String) throws {
        #expect {
            _ = try Configuration.load(yaml: yaml)
        } throws: { error in
            // The whole problem: a guess where none is expected fails too.
            (error as? ConfigurationError)?.problems == [message]
        }
    }

    @Test("Every problem is reported at once")
    func allProblems() {
        do {
            _ = try Configuration.load(yaml: "a: 1\nb: 2\ninput: {year: x}")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 3)
        }
    }

    @Test(
        "Durations",
        arguments: [
            ("90", Int64?(90)), ("45s", 45), ("10m", 600), ("1h30m", 5400), ("7d", 604_800), ("1w", 604_800),
            ("", nil), ("h", nil), ("1x", nil), ("5m3", nil), ("99999999999999999999s", nil),
        ])
    func durations(text: String, seconds: Int64?) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(
        "Durations print in their largest whole unit",
        arguments: [
            (Int64(0), "0s"), (90, "90s"), (600, "10m"), (3600, "1h"), (518_400, "6d"), (1_209_600, "2w"),
        ])
    func durationFormat(seconds: Int64, text: String) {
        #expect(DurationText.format(seconds) == text)
    }
}

@Suite struct DocumentationTests {
    @Test("The configuration reference in docs/configuration.md is exactly what 'config defaults --markdown' prints")
    func referenceDefaults() throws {
        let url = TestPaths.repositoryRoot.appendingPathComponent("docs/configuration.md")
        let doc = try String(contentsOf: url, encoding: .utf8)
        let open = try #require(doc.range(of: "<!-- BEGIN GENERATED CONFIG -->\n"))
        let close = try #require(doc[open.upperBound...].range(of: "<!-- END GENERATED CONFIG -->"))
        #expect(String(doc[open.upperBound..<close.lowerBound]) == Configuration.defaultsMarkdown)
    }

    @Test("Every key is documented, with a default that loads back unchanged")
    func everyKeyDeclared() throws {
        let defaults = Configuration()
        for (name, key) in Configuration.schema.allKeys {
            #expect(!key.doc.isEmpty, "\(name) has no doc")
            var c = Configuration()
            let text = key.text(of: defaults)
            #expect(key.apply(text == "null" ? .null : .text(text), to: &c) == nil, "\(name): default '\(text)'")
            #expect(key.text(of: c) == text, "\(name)")
        }
    }
}

/// A replay with every key at one end of its range, or with each rule on: no accepted value may trap.
@Suite struct ExtremeConfigurationTests {
    /// Every key at its least value; at its greatest; or at its least with every rule on and the input keys at
    /// their defaults (at the least line length no line is kept, so the first case reaches no rule).
    enum End: String, CaseIterable { case minimum, maximum, minimumWithRulesOn }

    /// The configuration text with every key that has a range at `end`.
    static func yaml(_ end: End) -> String {
        var lines: [String] = []
        var previous: [String] = []
        for section in Configuration.schema.sections {
            var common = 0
            while common < min(previous.count, section.path.count) && previous[common] == section.path[common] {
                common += 1
            }
            for depth in common..<section.path.count {
                lines.append(String(repeating: "  ", count: depth) + section.path[depth] + ":")
            }
            for key in section.keys
            where key.extremes.count == 2 && !(end == .minimumWithRulesOn && section.path == ["input"]) {
                var value = key.extremes[end == .maximum ? 1 : 0]
                if end == .minimumWithRulesOn && key.accepted == "true or false" { value = "true" }
                lines.append(String(repeating: "  ", count: section.path.count) + key.name + ": " + value)
            }
            previous = section.path
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("Every key at its minimum, and separately at its maximum, runs a replay to the end", arguments: End.allCases)
    func extremes(end: End) throws {
        let yaml = Self.yaml(end)
        let configuration = try Configuration.load(yaml: yaml)
        if end != .minimumWithRulesOn {
            // Every key with a range is set.
            let ranged = Configuration.schema.allKeys.filter { $0.key.extremes.count == 2 }
            #expect(yaml.split(separator: "\n").count(where: { !$0.hasSuffix(":") }) == ranged.count)
        }
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try OutputWriter.appending(path: dir.appendingPathComponent("a.jsonl").path).get()
        var sink = DetectionSink(engine: DetectionEngine(configuration: configuration.detection), output: writer)
        for dataset in ["mixed-s13.jsonl.log.zst", "real-postfix-3.7.postfix.log.zst", "real-exim-4.96.exim.log.zst"] {
            let summary = EventsRun(configuration: configuration).run(
                paths: [TestPaths.dataset(dataset)], sink: &sink
            ) { _ in }
            #expect(summary.failures.isEmpty)
        }
        sink.finish()
    }
}

/// `config check` and start-up read a file through the same declarations, so they accept the same files.
@Suite struct ConfigurationAgreementTests {
    @Test("A value out of range is refused by config check and by replay alike; every key at its maximum runs the CLI")
    func agree() throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.yaml")
        try Data("detect: {max_alert_accounts: 5000}\n".utf8).write(to: bad)
        let check = try CommandLine.run(["config", "check", bad.path])
        #expect(check.status == 1)
        #expect(check.stderr.contains("detect.max_alert_accounts: expected an integer from 1 to 4096"))
        let replay = try CommandLine.run([
            "replay", "--config", bad.path, TestPaths.dataset("notify-sample.jsonl.log.zst"),
        ])
        #expect(replay.status == 64)
        #expect(replay.stderr.contains("detect.max_alert_accounts"))

        let max = dir.appendingPathComponent("max.yaml")
        try Data(ExtremeConfigurationTests.yaml(.maximum).utf8).write(to: max)
        #expect(try CommandLine.run(["config", "check", max.path]).status == 0)
        let run = try CommandLine.run([
            "replay", "--config", max.path, TestPaths.dataset("real-exim-4.96.exim.log.zst"),
        ])
        #expect(run.status == 0, "\(run.stderr)")
    }
}
