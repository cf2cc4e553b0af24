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
        let c = try Configuration.load(yaml: """
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

    @Test("Unknown keys and bad values are rejected, each by its name", arguments: [
        ("inputs: {}", "inputs: unknown key"),
        ("input: {formt: exim}", "input.formt: unknown key"),
        ("input: {format: sendmail}", "input.format: expected auto, postfix, exim or jsonl, got 'sendmail'"),
        ("input: {max_line_bytes: ten}", "input.max_line_bytes: expected an integer"),
        ("input: {max_line_bytes: 0}", "input.max_line_bytes: expected an integer"),
        ("input: {timezone: Mars/Olympus}", "input.timezone: 'Mars/Olympus'"),
        ("input: {year: 1970}", "input.year: 1970 is before 1990"),
        ("messages: {open_timeout: soon}", "messages.open_timeout: expected a duration"),
        ("accounts: {account_header: 'X Account'}", "accounts.account_header: 'X Account' is not a header field name"),
        ("jsonl: {fields: {tenant: x}}", "jsonl.fields.tenant: unknown key"),
        ("jsonl: {fields: {ts: null}}", "jsonl.fields.ts: a send needs a time"),
        ("jsonl: {fields: {subject: 'a..b'}}", "jsonl.fields.subject: 'a..b' is not a dotted path"),
        ("input: [1, 2]", "input: expected a mapping"),
        ("input: {format: exim, format: postfix}", "duplicated key"),
        ("input: {format: [exim]}", "input.format: expected a single value"),
        ("{{{", "not valid YAML"),
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

    @Test("Every problem is reported at once")
    func allProblems() {
        do {
            _ = try Configuration.load(yaml: "a: 1\nb: 2\ninput: {year: x}")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 3)
        }
    }

    @Test("Durations", arguments: [
        ("90", Int64?(90)), ("45s", 45), ("10m", 600), ("1h30m", 5400), ("7d", 604_800), ("1w", 604_800),
        ("", nil), ("h", nil), ("1x", nil), ("5m3", nil), ("99999999999999999999s", nil),
    ])
    func durations(text: String, seconds: Int64?) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test("Durations print in their largest whole unit", arguments: [
        (Int64(0), "0s"), (90, "90s"), (600, "10m"), (3600, "1h"), (518_400, "6d"), (1_209_600, "2w"),
    ])
    func durationFormat(seconds: Int64, text: String) {
        #expect(DurationText.format(seconds) == text)
    }
}

@Suite struct DocumentationTests {
    @Test("The README's configuration block is exactly what 'config defaults' prints")
    func readmeDefaults() throws {
        let readme = try String(contentsOf: TestPaths.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Configuration"))
        let after = readme[section.upperBound...]
        let open = try #require(after.range(of: "```yaml\n"))
        let close = try #require(after[open.upperBound...].range(of: "```"))
        #expect(String(after[open.upperBound..<close.lowerBound]) == Configuration.defaultsYAML)
    }
}

@Suite struct ExtremeConfigurationTests {
    @Test("Every accepted extreme value runs a replay without trapping", arguments: [
        "detect: {warmup: 0, new_account_age: 1s, allowed_lateness: 0, memory_budget_mb: 1, max_tracked_accounts: 1, max_alert_accounts: 1000}",
        "detect: {warmup: 10w, new_account_age: 520w, allowed_lateness: 520w}",
        "alerts: {cooldown: 1s, min_update_interval: 0, growth_factor: 1.01, max_open: 1}",
        "templates: {max_templates: 1, similarity: 0.05, max_tokens: 1, max_candidates: 1, max_postings_per_token: 1, cache_size: 1, max_slot_bytes: 1}".replacingOccurrences(of: "max_tokens: 1,", with: "max_tokens: 2,"),
        "templates: {similarity: 1, max_tokens: 1024, cache_size: 100000000}",
        "messages: {max_open: 1, open_timeout: 1s}",
        "input: {max_line_bytes: 1}",
        "rules: {young_account_burst: {window: 1s, min_recipients: 1, long_window: 7s, long_min_recipients: 1}, template_swarm: {window: 3s, min_young_accounts: 1, baseline_factor: 0, baseline_sigmas: 0, baseline_half_life_windows: 0.1, min_template_share: 0}, slot_content: {window: 1s, min_young_accounts: 1, min_score: 0.5}, recipient_fanin: {window: 1s, min_young_accounts_per_recipient: 1, min_young_accounts_per_domain: 1}, account_rate: {enabled: true, window: 1s, limit: 1}}",
    ])
    func extremes(yaml: String) throws {
        let configuration = try Configuration.load(yaml: yaml)
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try OutputWriter.appending(path: dir.appendingPathComponent("a.jsonl").path).get()
        var sink = DetectionSink(engine: DetectionEngine(configuration: configuration.detection), output: writer)
        let summary = EventsRun(configuration: configuration).run(
            paths: [TestPaths.dataset("mixed-s13.jsonl.log.zst")], sink: &sink) { _ in }
        sink.finish()
        #expect(summary.failures.isEmpty)
    }
}
