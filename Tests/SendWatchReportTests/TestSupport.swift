import Foundation
import SendWatchCore
import SendWatchReport
import SendWatchTesting
import Testing

/// Paths inside the repository, found from this file's location.
enum TestPaths {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func dataset(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("datasets").appendingPathComponent(name).path
    }

    /// A fresh temporary directory; the caller removes it.
    static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sendwatch-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Alert lines written by SendWatch's own encoder, so the tests read what `replay` writes.
enum AlertLines {
    static let base = EventTime(seconds: 1_795_938_000)  // 2026-11-29T06:20:00Z

    static func alert(
        id: String, action: AlertAction = .create, kind: String = "slot_content", severity: Severity = .high,
        at offset: Int64 = 0, first: Int64 = 0, accounts: [String], template: AlertTemplate? = nil,
        slotValues: [String] = [], subject: String? = nil, reasons: [String] = ["a reason"], incident: String? = nil,
        logins: [String] = [], recipients: [String] = [], queueIDs: [String] = [], merged: [String] = []
    ) -> String {
        var evidence: [(String, JSONValue)] = []
        if !slotValues.isEmpty {
            evidence.append(
                (
                    "top_suspicious_slot_values",
                    .array(
                        slotValues.map {
                            .object([
                                ("value", .string($0)), ("count", .int(2)), ("indicators", .array([.string("phone")])),
                            ])
                        })
                ))
        }
        evidence.append(
            (
                "account_age_seconds",
                accounts.count == 1 ? .int(63) : .object([("min", .int(0)), ("median", .int(30)), ("max", .int(120))])
            ))
        evidence.append(("sample_message_ids", .array([.string("m-\(id)@example.net")])))
        if let subject { evidence.append(("sample_subject", .string(subject))) }
        if !logins.isEmpty {
            evidence.append(
                (
                    "submitters",
                    .object([
                        ("logins", .array(logins.map { .string($0) })), ("logins_total", .int(logins.count + 5)),
                        ("client_ips", .array([.string("203.0.113.7")])), ("client_ips_total", .int(1)),
                    ])
                ))
        }
        if !recipients.isEmpty || !queueIDs.isEmpty {
            evidence.append(
                (
                    "deliveries",
                    .object([
                        ("recipients", .array(recipients.map { .string($0) })),
                        ("recipients_total", .int(recipients.count)),
                        ("recipient_domains", .array([.string("victims.test")])), ("recipient_domains_total", .int(1)),
                        ("queue_ids", .array(queueIDs.map { .string($0) })), ("queue_ids_total", .int(queueIDs.count)),
                    ])
                ))
        }
        var a = Alert(
            id: id, action: action, kind: kind, severity: severity, score: 1,
            eventTime: EventTime(seconds: base.seconds + offset),
            firstEventTime: EventTime(seconds: base.seconds + first),
            accounts: accounts, accountsTotal: accounts.count, template: template, evidence: evidence, reasons: reasons)
        if let incident { a.incident = incident }
        a.mergedIncidents = merged
        var w = JSONWriter()
        a.writeJSONLine(to: &w)
        return String(decoding: w.bytes.dropLast(), as: UTF8.self)
    }

    /// Builds a report from `lines` and returns the page.
    static func render(_ lines: [String], limits: ReportLimits = ReportLimits(), events: [SendEvent] = []) throws
        -> String
    {
        var builder = ReportBuilder(limits: limits)
        for line in lines { try builder.add(line: Array(line.utf8)) }
        for e in events { builder.add(event: e) }
        var html = ""
        builder.render(into: &html, source: ReportSource(alerts: "alerts.jsonl"))
        return html
    }
}

/// The built `sendwatch` executable, which SwiftPM puts beside the test bundle.
enum SendWatchCLI {
    static var executable: URL? { sendwatchExecutable }

    /// Runs `sendwatch` with `arguments` (at most 5 minutes: a replay of a bundled dataset takes seconds).
    static func run(_ arguments: [String]) throws -> ProgramRun {
        let exe = try #require(executable, "the sendwatch executable is built beside the tests")
        let r = try ProgramRun.run(exe, arguments, timeout: .seconds(300))
        #expect(!r.timedOut)
        return r
    }
}
