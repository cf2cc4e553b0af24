import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchEval
import SendWatchPipeline
import SendWatchSimulation
import Testing

/// The quality gate CI runs: each bundled labelled dataset, replayed with the default settings, must meet the
/// figures the README promises. A regression fails the build, naming each unmet requirement.
@Suite struct QualityTests {
    static let requirements =
        "recall>=0.95,precision>=0.95,incidents=all,latency:tenant-swarm<=600,lookalikes=0,unlabelled=0"

    @Test(
        "Bundled dataset meets recall, precision, incidents, swarm latency and look-alike figures",
        arguments: [
            "mixed-s11.postfix", "mixed-s12.exim", "mixed-s13.jsonl",
        ])
    func dataset(_ name: String) throws {
        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (alerts, summary) = try replayToFile(
            [TestPaths.dataset("\(name).log.zst")], configuration: Configuration(),
            out: dir.appendingPathComponent("alerts.jsonl"))
        #expect(summary.failures.isEmpty)

        let stem = String(name.prefix { $0 != "." })
        let labels = try Labels.parse(
            try Data(contentsOf: URL(fileURLWithPath: TestPaths.dataset("\(stem).labels.json"))))
        var evaluation = Evaluation(labels: labels)
        try evaluation.consume(Array(alerts))
        let report = try evaluation.finish()
        let unmet = report.unmet(try Requirement.parseList(Self.requirements))
        #expect(unmet.isEmpty, "\(name): \(unmet.joined(separator: "; "))")
        // Each labelled campaign is one SendWatch incident (waves with the same lures may share one).
        let split = report.incidents.filter { $0.sendWatchIncidents > 1 }.map { "\($0.id): \($0.sendWatchIncidents)" }
        #expect(split.isEmpty, "\(name): campaigns split over several incidents: \(split)")
    }
}

/// The quality gate on the adversarial scenarios of `sendwatch simulate` (issue 13): the disguised-lure swarm
/// and the day-long rate-shaped swarm, each with the brand-name look-alikes, the concentrated strangers with
/// the launch-day and shared-inbox look-alikes, and the template rotation with the common-artefact look-alikes,
/// in every input format. Besides
/// the figures of the bundled datasets, every abusive account must be listed by an alert within 15 minutes of
/// its first send, or of the incident's first alert for the accounts that sent before it (an alert that stops
/// reporting new accounts fails here; the incident's own latency is the `latency` requirement).
@Suite struct ScenarioQualityTests {
    /// The figures per scenario. The rate-shaped swarm's accounts each put a whole lure (lure words or money with
    /// a phone number or an uncommon host) into a template slot, so `shared_artefact`'s `lone_lure` names the
    /// first at its first send (0 s on seeds 1–3 and 7 in every format; 26–59 min with `lone_lure: false`, when
    /// the first alert waits for `min_young_accounts` (3) of its accounts, about four an hour over two templates,
    /// on one template); its later accounts are bound by the 15-minute check below (at most 8.6 min on seed 7,
    /// an open alert's `min_update_interval`).
    /// The template rotations' accounts each put a whole lure (a phone number with lure words) into a slot, so
    /// `shared_artefact`'s `lone_lure` names the first at its first send. The phone-only lure's accounts each put
    /// a bare phone number into their name, which `bare_phone` names at the first send. The stranger waves fire
    /// when three young accounts on the template mailed two strangers each within 30 minutes and one of them a
    /// third, or two when both mailed only strangers (seed 7: 16.0 minutes in every format, 19.1 with three only, so
    /// the bound, 18, fails when the strangers-only pair stops firing; a decoy-colleague account mails its decoys
    /// first, 34 minutes). The heavy-decoy
    /// wave fires when a provider-wave member (three strangers at one provider, between its decoys) and two more
    /// accounts with two strangers there used the template within 30 minutes (seed 7: 37 minutes; 51 with three
    /// members, 110 with six members in 2 hours only). Why neither is sooner: docs/detection.md, "Decoy waves
    /// within half an hour".
    static let requirements = [
        "hidden-lures": "recall>=0.95,precision>=0.98,incidents=all,latency<=600,lookalikes=0,unlabelled=0",
        "padded-lures": "recall>=0.95,precision>=0.98,incidents=all,latency<=600,lookalikes=0,unlabelled=0",
        "rate-shaped-swarm": "recall>=0.95,precision>=0.98,incidents=all,latency<=600,lookalikes=0,unlabelled=0",
        "concentrated-strangers":
            "recall>=0.95,precision>=0.98,incidents=all,latency<=1080,lookalikes=0,unlabelled=0",
        "template-rotation": "recall>=0.95,precision>=0.98,incidents=all,latency<=600,lookalikes=0,unlabelled=0",
        "rotation-per-account-phone":
            "recall>=0.95,precision>=0.98,incidents=all,latency<=600,lookalikes=0,unlabelled=0",
        "decoy-colleague":
            "recall>=0.95,precision>=0.98,incidents=all,latency:decoy-strangers<=2400,lookalikes=0,unlabelled=0",
        "phone-only-lure": "recall>=0.95,precision>=0.98,incidents=all,latency<=600,lookalikes=0,unlabelled=0",
        "heavy-decoys": "recall>=0.95,precision>=0.98,incidents=all,latency<=2700,lookalikes=0,unlabelled=0",
        // Measured on seed 7 (every format): recall 0.700, precision 0.689–0.712, latency 12.0 min (35.7 before
        // the template's strangers-only early path), 17–19
        // webmail-founders look-alikes (all named without the spread wave too): the launch day hides the spread
        // wave until it has left the window (docs/detection.md). two-strangers, caught by the provider wave's
        // strangers-only early members: 1.000, 0.870, 12.7 min, 18 (it was 0.392, 0.734, 238 min, 17).
        "spread-strangers": "recall>=0.65,precision>=0.65,incidents=all,latency<=2700,lookalikes<=19,unlabelled=0",
        "two-strangers": "recall>=0.95,precision>=0.85,incidents=all,latency<=1800,lookalikes<=18,unlabelled=0",
        // The two-strangers wave among organic sign-ups all run long (seed 7): recall 1.000, 11.8 min; precision
        // 0.594 (Postfix, Exim), 0.566 (JSON lines), which only the per-kind caps below bound.
        "signups-then-two-strangers": "recall>=0.95,incidents=all,latency<=1800,unlabelled=0",
        // A launch day whose webmail invitees gather at the big providers (docs/detection.md, "Launch days with a
        // webmail tail"): its few tenants with three or more invitees at one provider are named (seed 7: 2 alone,
        // 1 beside the wave); the caps below record today's figures, they are not a quality bar.
        "launch-day-webmail": "lookalikes<=2,unlabelled=0",
        "strangers-beside-launch-day":
            "recall>=0.95,precision>=0.98,incidents=all,latency<=1080,lookalikes<=1,unlabelled=0",
        // Two strangers an account behind one decoy at its own domain (docs/detection.md, "Launch days with a
        // webmail tail"): per account a launch-day tenant that welcomed its founder and invited two webmail
        // friends, so no path names it (seed 7, every format: recall 0, no incident). Its accounts, early members of
        // the provider wave at webmail.example, fire that wave's early path with a launch-day tenant (three webmail
        // invitees there) as its one member, and the alert names the tenant alone. Today's figures, not a bar.
        "decoy-two-strangers": "lookalikes<=1,unlabelled=0",
    ]
    /// Look-alikes a scenario may flag (the `lookalikes` requirement bounds how many accounts), by kind; every
    /// other look-alike must stay silent. The `webmail-founders` tenants of `spread-strangers` and `two-strangers`
    /// (a launch day's founders on webmail, every recipient a stranger, most at the founder's provider) are
    /// stranger-mailers, and six of them on the invitation template within 2 hours fire the template's group: a
    /// known gap, see docs/detection.md. On seed 7 (Postfix, Exim) the group of all templates, whose twelve
    /// stranger-mailers these founders and the wave fill, also names one new employee: without the spread wave too.
    static let flaggedLookAlikeKinds: [String: Set<String>] = [
        "spread-strangers": ["webmail-founders", "new-employees"], "two-strangers": ["webmail-founders"],
    ]
    /// The most accounts a look-alike kind may have flagged, by scenario (`scenario/format` first, then
    /// `scenario`): those kinds may be flagged up to the cap, every other look-alike must stay silent. In
    /// `signups-then-two-strangers` the individuals signing up all day are named until each group's base rate has
    /// 3 completed hours, and while the wave fires beside them (docs/detection.md, "Organic sign-ups and base
    /// rates"). Its `organic-signups` caps record today's seed-7 figures, so one more individual named fails; they
    /// are not a quality bar. In Postfix and Exim form (no creation times) the 10 individuals that first send in
    /// SendWatch's 1 h warm-up count as established, so 82 of the 92 can be named: 73 are (81 without the base
    /// rate). In JSON lines (whose creation times give every account's age) 81 of 92 are (91 without). One new
    /// employee in each format.
    static let lookAlikeCaps: [String: [String: Int]] = [
        "signups-then-two-strangers": ["organic-signups": 73, "new-employees": 1],
        "signups-then-two-strangers/jsonl": ["organic-signups": 81, "new-employees": 1],
        "launch-day-webmail": ["launch-day-webmail": 2], "strangers-beside-launch-day": ["launch-day-webmail": 1],
        "decoy-two-strangers": ["launch-day-webmail": 1],
    ]
    /// A stranger-mailing account is judged at its third recipient (two invitations after its first, about
    /// 12 minutes at the scenario's pace), so its accounts get that much longer.
    /// A decoy-colleague stranger-mailer sends its one or two decoys first, so its third stranger comes up to
    /// four invitations (36 minutes) after its first send. A heavy-decoy account becomes a provider-wave member at
    /// its third stranger, which its decoys push back by up to three mails (37 minutes after the incident's first
    /// alert on seed 7).
    static let extraAccountDelaySeconds: [String: Int64] = [
        "concentrated-strangers": 20 * 60, "decoy-colleague": 40 * 60, "heavy-decoys": 40 * 60,
        // Measured on seed 7: 53 minutes at most (a spread wave lists the members of its early window). A
        // two-strangers account is listed when it joins its provider's strangers-only group while four are in its
        // half hour, else when a later one makes four: 33 minutes at most after its first send on seed 7.
        "spread-strangers": 40 * 60, "two-strangers": 20 * 60, "signups-then-two-strangers": 20 * 60,
        "strangers-beside-launch-day": 20 * 60,
    ]
    /// Abusive accounts a scenario may leave unlisted (its recall is the `recall` requirement): on seed 7 every
    /// heavy-decoy account is listed in every format (measured 2026-12-07).
    /// `spread-strangers` (18 on seed 7): a spread wave fires only once the launch day has left its window, and
    /// accounts that went quiet before are not named. `two-strangers` (0 on seed 7; 73 before its accounts with
    /// only strangers fired their provider's wave): at most the 5 % its recall allows.
    static let maxUnlistedAccounts = [
        "spread-strangers": 20, "two-strangers": 6, "signups-then-two-strangers": 6,
        // None of its 120 accounts is named on seed 7 (2026-12-07): the cap records that, it is not a bar.
        "decoy-two-strangers": 120,
    ]
    /// SendWatch incidents a labelled campaign may form, when not 1. `rotation-per-account-phone` words its lure
    /// two ways with a different phone number per account and no host: the accounts of one wording share its
    /// lure text, but no alert lists accounts of both or shares an artefact between them, so each wording is one
    /// incident (it was 8 while only open alerts linked, each alert closing in the 86-minute gaps).
    /// `heavy-decoys` aims its accounts at the two large providers, each account at one: its waves at both join
    /// their template's one alert (one incident on seed 7 in every format).
    static let maxIncidentsPerCampaign = ["rotation-per-account-phone": 2]
    /// The longest a labelled abusive account may wait for an alert that lists it, in event time.
    static let maxAccountDelaySeconds: Int64 = 15 * 60

    @Test(
        "Adversarial scenario meets its figures; its abusive accounts are listed within 15 min, save its allowances",
        arguments: [
            "hidden-lures", "rate-shaped-swarm", "concentrated-strangers", "template-rotation",
            "rotation-per-account-phone", "decoy-colleague", "phone-only-lure", "heavy-decoys", "spread-strangers",
            "two-strangers", "signups-then-two-strangers", "launch-day-webmail", "strangers-beside-launch-day",
            "decoy-two-strangers",
        ],
        SimulationFormat.allCases)
    func scenario(_ name: String, format: SimulationFormat) throws {
        try Self.check(name, format: format)
    }

    /// `padded-lures`, whose subjects Postfix's 200-byte header cut ends inside the lure's slot, in every input
    /// format, JSON lines also without the creation times (ages from first sight, as Postfix and Exim): the
    /// figures and per-account delays of the other scenarios. In Postfix form its young accounts' cut subjects
    /// must also be placed in their template (``TemplateMiner/mine(cut:)``'s prefix match), a third at least: only those
    /// whose lure fills a leading slot (`<*> sent you a private message`) join the cut-subjects group. Seed 7:
    /// 459 young accounts' events with a cut subject (one per recipient), 268 of them in the group (measured
    /// 2026-12-07; recall and precision 1.000 in every form).
    @Test(
        "Padded lures past Postfix's header cut meet their figures in every input format",
        arguments: ["postfix", "exim", "jsonl", "jsonl-no-created"])
    func paddedLures(_ form: String) throws {
        let withoutCreationTimes = form.hasSuffix("-no-created")
        // Safe to force unwrap: every name above without the suffix is a registered format.
        let format = SimulationFormat(rawValue: withoutCreationTimes ? String(form.dropLast(11)) : form)!
        var counters = DetectionCounters()
        try Self.check("padded-lures", format: format, withoutCreationTimes: withoutCreationTimes) { counters = $0 }
        if format == .postfix {
            #expect(counters.cutSubjects >= 100, "cut subjects of young accounts: \(counters.cutSubjects)")
            let placed = counters.cutSubjects - counters.cutSubjectsUngrouped
            #expect(placed * 3 >= counters.cutSubjects, "placed in a template: \(placed) of \(counters.cutSubjects)")
        } else {
            #expect(counters.cutSubjects == 0)
        }
    }

    /// Simulates scenario `name` (seed 7) in `format`, replays it with the default settings and checks the
    /// scenario's figures, look-alikes, incidents and per-account delays; `withoutCreationTimes` drops
    /// `account_created` from JSON lines first. `finished` reads the engine's counters after the replay.
    static func check(
        _ name: String, format: SimulationFormat, withoutCreationTimes: Bool = false,
        finished: (DetectionCounters) -> Void = { _ in }
    ) throws {
        // Safe to force unwrap: both names are in `Scenario.names`.
        let configuration = SimulationConfiguration(scenario: Scenario.named(name)!, seed: 7, format: format)
        var simulator = try Simulator(configuration: configuration)
        var log = LogBytes()
        _ = simulator.run(into: &log)
        let labels = simulator.labels()
        if withoutCreationTimes { log.dropKey("account_created") }

        let dir = try TestPaths.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let logURL = dir.appendingPathComponent("\(name).\(format.rawValue).log")
        try Data(log.bytes).write(to: logURL)
        let (written, summary) = try replayToFile(
            [logURL.path], configuration: Configuration(), out: dir.appendingPathComponent("alerts.jsonl"),
            finished: finished)
        #expect(summary.failures.isEmpty)
        let alerts = Array(written)

        var evaluation = Evaluation(labels: try Labels.parse(Data(labels.jsonBytes())))
        try evaluation.consume(alerts)
        let report = try evaluation.finish()
        let unmet = report.unmet(try Requirement.parseList(Self.requirements[name] ?? ""))
        #expect(unmet.isEmpty, "\(name) \(format.rawValue): \(unmet.joined(separator: "; "))")
        let caps = Self.lookAlikeCaps["\(name)/\(format.rawValue)"] ?? Self.lookAlikeCaps[name] ?? [:]
        let allowed = Self.flaggedLookAlikeKinds[name] ?? Set(caps.keys)
        let loud = report.lookAlikes.filter { $0.flagged > 0 && !allowed.contains($0.kind) }.map {
            "\($0.kind): \($0.flagged)"
        }
        var flaggedByKind: [String: Int] = [:]
        for lookAlike in report.lookAlikes { flaggedByKind[lookAlike.kind, default: 0] += lookAlike.flagged }
        let overCap = caps.filter { flaggedByKind[$0.key, default: 0] > $0.value }.map {
            "\($0.key): \(flaggedByKind[$0.key, default: 0]) > \($0.value)"
        }
        #expect(overCap.isEmpty, "\(name) \(format.rawValue): look-alikes flagged over their caps: \(overCap)")
        #expect(loud.isEmpty, "\(name) \(format.rawValue): look-alikes flagged: \(loud)")
        // Each labelled campaign is one SendWatch incident, however slowly it runs (issue 13, issue 16), except
        // where its alerts share nothing (see `maxIncidentsPerCampaign`).
        let most = Self.maxIncidentsPerCampaign[name] ?? 1
        let split = report.incidents.filter { $0.sendWatchIncidents > most }.map {
            "\($0.id): \($0.sendWatchIncidents)"
        }
        #expect(split.isEmpty, "\(name) \(format.rawValue): campaigns split over several incidents: \(split)")

        // First record listing each account.
        var listed: [String: EventTime] = [:]
        for line in alerts.split(separator: 0x0A) {
            guard case .success(let record) = AlertRecord.parse(line: line) else { continue }
            for a in record.accounts where listed[a].map({ record.eventTime < $0 }) ?? true {
                listed[a] = record.eventTime
            }
        }
        var late: [String] = []
        var unlisted: [String] = []
        for incident in labels.incidents {
            // nil when no account of the incident is listed (then none is late, every one unlisted).
            let detected = incident.accounts.compactMap { listed[$0]?.microseconds }.min()
            for (account, first) in zip(incident.accounts, incident.firstSend) {
                guard let at = listed[account], let detected else {
                    unlisted.append(account)
                    continue
                }
                let limit =
                    max(first.microseconds, detected)
                    + (Self.maxAccountDelaySeconds + (Self.extraAccountDelaySeconds[name] ?? 0)) * 1_000_000
                if at.microseconds > limit { late.append(account) }
            }
        }
        #expect(
            unlisted.count <= Self.maxUnlistedAccounts[name, default: 0],
            "\(name) \(format.rawValue): \(unlisted.count) abusive accounts never listed, e.g. \(unlisted.prefix(5))")
        #expect(
            late.isEmpty,
            "\(name) \(format.rawValue): \(late.count) abusive accounts not listed within 15 min, e.g. \(late.prefix(5))"
        )
    }
}

/// The simulated log in memory, one line per write.
private struct LogBytes: SimulationSink {
    var bytes: [UInt8] = []
    mutating func write(line: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: line)
        bytes.append(0x0A)
    }

    /// Removes every `"key":"…",` (a JSON-lines string member followed by another), as
    /// `sed -E 's/"key":"[^"]*",//'` does in scripts/quality-table.
    mutating func dropKey(_ key: String) {
        let member = Array("\"\(key)\":\"".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == member[0], i + member.count <= bytes.count,
                bytes[i..<i + member.count].elementsEqual(member),
                let close = bytes[(i + member.count)...].firstIndex(of: UInt8(ascii: "\"")),
                close + 1 < bytes.count, bytes[close + 1] == UInt8(ascii: ",")
            {
                i = close + 2
                continue
            }
            out.append(bytes[i])
            i += 1
        }
        bytes = out
    }
}
