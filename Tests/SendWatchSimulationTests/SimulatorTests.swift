import Foundation
import SendWatchCore
import SendWatchFormats
import SendWatchPipeline
import Testing

@testable import SendWatchSimulation

@Suite struct SimulatorTests {
    @Test("The module's documentation has a row for every scenario and every kind of burst, so its lists cannot drift")
    func documentationListsEveryScenario() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(
                "Sources/SendWatchSimulation/SendWatchSimulation.docc/SendWatchSimulation.md")
        let rows = try String(contentsOf: doc, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("| `") }
        // A table row names its scenario or kind first: "| `name` | ...".
        let named = Set(rows.compactMap { $0.dropFirst(3).split(separator: "`").first.map(String.init) })
        for name in Scenario.names { #expect(named.contains(name), "scenario \(name) has no row") }
        for kind in BurstKind.allCases {
            #expect(named.contains(kind.rawValue), "burst kind \(kind.rawValue) has no row")
        }
    }

    @Test("The simulator's formats are its registered writers: each named once, found by name, listed in the help")
    func registeredFormats() throws {
        #expect(SimulationFormat.allCases.map(\.rawValue) == ["postfix", "exim", "jsonl"])
        #expect(SimulationFormat.allCases == [.postfix, .exim, .jsonl])
        #expect(Set(SimulationFormat.writers.map { $0.formatName }).count == SimulationFormat.writers.count)
        for format in SimulationFormat.allCases {
            #expect(SimulationFormat(rawValue: format.rawValue) == format)
            // The writer a run makes is the registered one, under the same name.
            let config = smallConfiguration(format: format)
            #expect(type(of: format.makeWriter(config)).formatName == format.rawValue)
            // Every format the simulator writes is one SendWatch reads.
            #expect(LogFormat(rawValue: format.rawValue) != nil)
        }
        #expect(SimulationFormat(rawValue: "syslog") == nil)
        #expect(SimulationFormat.namesText == "postfix, exim or jsonl")
    }

    @Test(
        "The same seed gives identical bytes and labels; another seed gives different ones",
        arguments: SimulationFormat.allCases)
    func determinism(format: SimulationFormat) throws {
        let a = try simulate(smallConfiguration(seed: 11, format: format))
        let b = try simulate(smallConfiguration(seed: 11, format: format))
        let c = try simulate(smallConfiguration(seed: 12, format: format))
        #expect(a.bytes.count > 10_000)
        #expect(a.bytes == b.bytes)
        #expect(a.labels.jsonBytes() == b.labels.jsonBytes())
        #expect(a.bytes != c.bytes)
    }

    @Test(
        "Our parsers read every format with zero skipped lines and no incomplete message",
        arguments: SimulationFormat.allCases)
    func parsedWithoutSkips(format: SimulationFormat) throws {
        let run = try simulate(smallConfiguration(format: format))
        let (summary, events) = try readEvents(run.bytes, name: "zero-skips.\(format.rawValue).log")
        #expect(summary.failures.isEmpty)
        #expect(summary.inputFormats.map { $0.format?.rawValue } == [format.rawValue])
        #expect(summary.skipped.isEmpty)
        #expect(summary.parse.rejected[.unknownQueueID] == nil)
        #expect(summary.parse.incompleteMessages == 0)
        #expect(summary.lines == run.summary.lines)
        #expect(events.count > 500)
    }

    @Test("All formats describe the same traffic: the same events per account")
    func formatsAgree() throws {
        var counts: [[String: Int]] = []
        for format in SimulationFormat.allCases {
            let run = try simulate(smallConfiguration(seed: 5, format: format))
            let (_, events) = try readEvents(run.bytes, name: "agree.\(format.rawValue).log")
            counts.append(Dictionary(events.map { ($0.account, 1) }, uniquingKeysWith: +))
        }
        #expect(counts[0] == counts[1])
        #expect(counts[0] == counts[2])
    }

    @Test(
        "Labelled accounts appear with first sends equal to first_send; young accounts only after the warm-up",
        arguments: SimulationFormat.allCases)
    func labelsMatchEvents(format: SimulationFormat) throws {
        let config = smallConfiguration(format: format)
        let run = try simulate(config)
        let (_, events) = try readEvents(run.bytes, name: "labels.\(format.rawValue).log")
        var first: [String: EventTime] = [:]
        for e in events where first[e.account].map({ e.time < $0 }) ?? true { first[e.account] = e.time }

        let labels = run.labels
        #expect(labels.incidents.map(\.kind) == [.tenantSwarm, .youngBurst, .trialWelcome, .lowAndSlow])
        // Every scenario has the common look-alikes; `mixed` has no look-alikes of its own.
        #expect(Set(labels.hardNegatives.map(\.kind)) == Set(Scenario.lookAlikes(scale: 1).map(\.kind)))
        var young = Set<String>()
        for incident in labels.incidents {
            #expect(!incident.accounts.isEmpty)
            for (account, t) in zip(incident.accounts, incident.firstSend) {
                #expect(first[account] == t, "first send of \(account)")
                young.insert(account)
            }
            #expect(incident.start == incident.firstSend.min())
            #expect(incident.start <= incident.end)
        }
        #expect(labels.abusiveAccounts == Array(young).sorted())
        for negative in labels.hardNegatives where negative.kind == .tenantOnboarding || negative.kind == .newEmployees
        {
            young.formUnion(negative.accounts)
        }
        for account in young {
            let t = try #require(first[account])
            #expect(t >= labels.warmupEnd, "\(account) sent before the warm-up ended")
        }
        // Everyone else is established: first seen within SendWatch's default 1 h warm-up.
        let warmupLimit = EventTime(seconds: config.start.seconds + 3_600)
        for (account, t) in first where !young.contains(account) {
            #expect(t < warmupLimit, "established account \(account) first sends at \(t)")
        }
        // Look-alikes that use established accounts are established too.
        for negative in labels.hardNegatives where negative.kind == .newsletter || negative.kind == .passwordResetStorm
        {
            for account in negative.accounts { #expect((first[account] ?? warmupLimit) < warmupLimit) }
        }
    }

    @Test("JSON lines carry account_created months back for established and minutes to hours for young accounts")
    func accountCreated() throws {
        let run = try simulate(smallConfiguration(format: .jsonl))
        let (_, events) = try readEvents(run.bytes, name: "created.jsonl")
        let abusive = Set(run.labels.abusiveAccounts)
        for e in events {
            let created = try #require(e.accountCreated)
            let age = e.time.seconds - created.seconds
            if abusive.contains(e.account) {
                #expect(age > 0 && age < 86_400, "\(e.account) is \(age) s old")
            }
            if e.time < run.labels.warmupEnd { #expect(age > 20 * 86_400) }
        }
    }

    @Test("A Postfix run started on 31 December reads back across the New Year with a 2026 year hint")
    func newYear() throws {
        var start: EventTime {
            EventTime(seconds: CivilDate(year: 2026, month: 12, day: 31).daysSinceEpoch * 86_400 + 22 * 3_600)
        }
        let config = smallConfiguration("young-burst", format: .postfix, start: start, durationSeconds: 4 * 3_600)
        let run = try simulate(config)
        let text = String(decoding: run.bytes, as: UTF8.self)
        #expect(text.hasPrefix("Dec 31 22:"))
        #expect(text.contains("\nJan  1 00:"))
        let (summary, events) = try readEvents(run.bytes, year: 2026, name: "newyear.log")
        #expect(summary.skipped.isEmpty)
        let years = Set(events.map { CivilDate(daysSinceEpoch: $0.time.seconds / 86_400).year })
        #expect(years == [2026, 2027])
        #expect(events.allSatisfy { $0.time >= config.start && $0.time.seconds < config.end.seconds + 7_200 })
        let burst = try #require(run.labels.incidents.first)
        #expect(CivilDate(daysSinceEpoch: burst.start.seconds / 86_400).year == 2027)
    }

    @Test("Memory does not grow with duration: lines held for messages in flight stay bounded")
    func constantMemory() throws {
        var short = smallConfiguration("baseline", format: .postfix, durationSeconds: 3 * 3_600)
        short.scale = 0.3
        var long = short
        long.durationSeconds = 24 * 3_600
        long.lookAlikes = Scenario.lookAlikes(scale: 0.3)
        var a = try Simulator(configuration: short)
        var b = try Simulator(configuration: long)
        var sinkA = CountingSink()
        var sinkB = CountingSink()
        let sa = a.run(into: &sinkA)
        let sb = b.run(into: &sinkB)
        #expect(sb.lines > 5 * sa.lines / 2)
        // Held lines depend on the message rate and the retry window, not on the length of the run.
        #expect(sa.maxPendingLines < 2_000)
        #expect(sb.maxPendingLines < 2_000)
        #expect(sb.maxPendingLines < 3 * max(sa.maxPendingLines, 100))
        #expect(sb.lines == sinkB.lines)
    }

    @Test("The labels file has the documented schema")
    func labelsSchema() throws {
        let run = try simulate(smallConfiguration(format: .exim))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(run.labels.jsonBytes())) as? [String: Any])
        #expect(
            Set(json.keys) == [
                "warmup_end", "incidents", "hard_negatives", "abusive_accounts", "scenario", "seed", "format", "start",
                "end",
            ])
        func isTime(_ v: Any?) -> Bool {
            guard let s = v as? String else { return false }
            return s.count >= 20 && s.hasSuffix("Z") && s.dropFirst(10).first == "T"
        }
        #expect(isTime(json["warmup_end"]))
        let incidents = try #require(json["incidents"] as? [[String: Any]])
        #expect(incidents.count == 4)
        var union = Set<String>()
        for i in incidents {
            #expect(Set(i.keys) == ["id", "kind", "accounts", "start", "end", "first_send"])
            let accounts = try #require(i["accounts"] as? [String])
            let firstSend = try #require(i["first_send"] as? [String: String])
            #expect(Set(firstSend.keys) == Set(accounts))
            #expect(firstSend.values.allSatisfy { isTime($0) })
            #expect(isTime(i["start"]) && isTime(i["end"]))
            union.formUnion(accounts)
        }
        let negatives = try #require(json["hard_negatives"] as? [[String: Any]])
        #expect(negatives.count == 4)
        for n in negatives { #expect(Set(n.keys) == ["id", "kind", "accounts"]) }
        #expect(Set(try #require(json["abusive_accounts"] as? [String])) == union)
        #expect(json["format"] as? String == "exim")
    }

    @Test(
        "Every named scenario validates with its defaults; a too short duration is refused",
        arguments: Scenario.names)
    func scenarios(name: String) throws {
        let scenario = try #require(Scenario.named(name))
        let config = SimulationConfiguration(scenario: scenario, seed: 1)
        try config.validate()
        #expect(config.minimumDurationSeconds <= config.durationSeconds)
        if !scenario.incidents.isEmpty {
            var short = config
            short.durationSeconds = config.minimumDurationSeconds - 60
            #expect(throws: SimulationError.self) { try short.validate() }
        }
    }

    @Test(
        "A scale that is not a number, infinite, out of range or too large for the look-alikes is refused by name",
        arguments: [Double.nan, .infinity, -.infinity, 1e308, 0, -1, 0.0001, 4000.5, 5000, 10_000])
    func badScales(scale: Double) {
        let config = SimulationConfiguration(scenario: Scenario.named("mixed")!, seed: 1, scale: scale)
        #expect {
            try config.validate()
        } throws: { error in
            let problems = (error as? SimulationError)?.problems ?? []
            return problems.count == 1 && problems[0].hasPrefix("scale must be a number from 0.001 to 4000")
        }
    }

    @Test("An attack plan starting at the run's start is refused (warm-up alerts go unscored), a look-alike's is not")
    func attackAtRunStart() throws {
        var attack = Scenario.tenantSwarmPlan
        attack.startsAtRunStart = true
        let warmup: Int64 = 4_500
        let latest = Scenario.tenantSwarmPlan.latestSendAfterWarmupSeconds(warmupSeconds: warmup)
        #expect(attack.latestSendAfterWarmupSeconds(warmupSeconds: warmup) == latest - warmup)
        let scenario = Scenario(name: "early", incidents: [attack], defaultDurationSeconds: 6 * 3600)
        let config = SimulationConfiguration(scenario: scenario, seed: 1, warmupSeconds: warmup)
        #expect {
            try config.validate()
        } throws: { error in
            let problems = (error as? SimulationError)?.problems ?? []
            return problems == [
                "attack burst 'tenant-swarm' must not start at the run's start: alerts before the warm-up's end are "
                    + "not scored"
            ]
        }
        let lookAlike = SimulationConfiguration(
            scenario: Scenario(
                name: "early", incidents: [Scenario.tenantSwarmPlan], defaultDurationSeconds: 6 * 3600,
                lookAlikes: [Scenario.organicSignupsPlan]), seed: 1)
        try lookAlike.validate()
    }

    @Test("The ends of the scale range validate: the newsletter reaches exactly the largest burst at the top")
    func scaleRangeEnds() throws {
        for scale in [SimulationConfiguration.scaleRange.lowerBound, SimulationConfiguration.scaleRange.upperBound] {
            let config = SimulationConfiguration(scenario: Scenario.named("mixed")!, seed: 1, scale: scale)
            try config.validate()
        }
        let top = Scenario.lookAlikes(scale: SimulationConfiguration.scaleRange.upperBound)
        #expect(top.map(\.messagesPerAccount).max() == BurstPlan.maxMessagesPerAccount)
    }

    @Test("template-rotation: one campaign over all five templates with one phone number, and the look-alike")
    func templateRotation() throws {
        let run = try simulate(smallConfiguration("template-rotation", format: .jsonl))
        #expect(run.labels.incidents.map(\.kind) == [.templateRotation])
        let campaign = Set(try #require(run.labels.incidents.first).accounts)
        let common = try #require(run.labels.hardNegatives.first { $0.kind == .commonArtefacts })
        #expect(common.accounts.count == Scenario.commonArtefactsPlan.accounts)
        // The campaign's templates and the slot its lure sits in.
        var templates: [String: Set<String>] = [:]
        for line in run.bytes.split(separator: 0x0A) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            guard let account = object["account"] as? String, campaign.contains(account) else { continue }
            let subject = try #require(object["subject"] as? String)
            #expect(subject.contains("555") && subject.contains("0163"), "\(subject)")
            templates[try #require(object["template_id"] as? String), default: []].insert(subject)
        }
        #expect(
            Set(templates.keys) == ["private-message", "invite-team", "welcome", "password-reset", "invoice-ready"])
        // The lure is the inviter in invitations, the invoice number in invoices.
        #expect(
            templates["invite-team"]?.allSatisfy {
                $0.components(separatedBy: " invited you to join ").first?.contains("0163") == true
            } == true)
        #expect(
            templates["invoice-ready"]?.allSatisfy { $0.hasPrefix("Your invoice ") && !$0.contains("INV-") } == true)
        let text = String(decoding: run.bytes, as: UTF8.self)
        #expect(text.contains("(help: notify.example.net/help)") && text.contains(" - bookings via webmail.example"))
    }

    @Test("rotation-per-account-phone: one wording, a different phone number per account, no host")
    func rotationPerAccountPhone() throws {
        let run = try simulate(smallConfiguration("rotation-per-account-phone", format: .jsonl))
        #expect(run.labels.incidents.map(\.kind) == [.rotationPerAccountPhone])
        let campaign = Set(try #require(run.labels.incidents.first).accounts)
        #expect(Set(run.labels.hardNegatives.map(\.kind)).isSuperset(of: [.brandNames, .commonArtefacts, .launchDay]))
        var phones: [String: Set<String>] = [:]
        var templates: Set<String> = []
        for line in run.bytes.split(separator: 0x0A) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            guard let account = object["account"] as? String, campaign.contains(account) else { continue }
            let subject = try #require(object["subject"] as? String)
            #expect(subject.contains("call") && !subject.contains(".example"), "\(subject)")
            let digits = String(subject.filter(\.isNumber).suffix(11))
            phones[account, default: []].insert(digits)
            templates.insert(try #require(object["template_id"] as? String))
        }
        #expect(templates.count == 5)
        // Each account keeps one number, and no two accounts share it.
        #expect(phones.values.allSatisfy { $0.count == 1 })
        #expect(Set(phones.values.flatMap { $0 }).count == phones.count)
    }

    @Test("The default incidents have the documented sizes")
    func defaultSizes() {
        #expect(Scenario.tenantSwarmPlan.accounts == 250 && Scenario.tenantSwarmPlan.messagesPerAccount == 8)
        #expect(Scenario.trialWelcomePlan.accounts * Scenario.trialWelcomePlan.messagesPerAccount == 1_682)
        #expect(Scenario.named("mixed")?.incidents.count == 4)
        #expect(Scenario.named("nonsense") == nil)
    }

    @Test(
        "The adversarial scenarios label their swarm and the brand-name look-alikes, whose names are the brands",
        arguments: ["hidden-lures", "padded-lures", "rate-shaped-swarm"])
    func adversarialScenarios(name: String) throws {
        let config = smallConfiguration(name, durationSeconds: name == "rate-shaped-swarm" ? 28 * 3600 : nil)
        let run = try simulate(config)
        #expect(run.labels.incidents.map(\.kind.rawValue) == [name])
        let brands = try #require(run.labels.hardNegatives.first { $0.kind == .brandNames })
        #expect(brands.accounts.count == Scenario.brandNamesPlan.accounts)
        let text = String(decoding: run.bytes, as: UTF8.self)
        #expect(text.contains("Acme.io") && text.contains("Route 66 Diner"))
    }

    @Test("Padded lures: every swarm subject is cut by Postfix's 200-byte header limit after its lure, no other is")
    func paddedLuresAreCut() throws {
        let run = try simulate(smallConfiguration("padded-lures"))
        let incident = try #require(run.labels.incidents.first)
        #expect(incident.kind == .paddedLures)
        // The Subject line of each message of the swarm's accounts (by queue id, from its X-Account-Id line).
        let lines = String(decoding: run.bytes, as: UTF8.self).split(separator: "\n")
        var swarmQueueIDs: Set<Substring> = []
        let accounts = Set(incident.accounts)
        for line in lines {
            guard let r = line.range(of: "warning: header X-Account-Id: "),
                accounts.contains(String(line[r.upperBound...].prefix { $0 != " " && $0 != ";" }))
            else { continue }
            swarmQueueIDs.insert(Self.queueID(line))
        }
        var cut = 0
        var whole = 0
        for line in lines {
            guard let r = line.range(of: "warning: header Subject: ") else { continue }
            // The logged header (name included) ends at the trailer's " from CLIENT; from=<".
            let header = line[line.index(r.lowerBound, offsetBy: "warning: header ".count)...]
            let trailer = try #require(header.range(of: "; from=<")).lowerBound
            let logged = try #require(header[..<trailer].range(of: " from ", options: .backwards)).lowerBound
            let length = header[..<logged].utf8.count
            if swarmQueueIDs.contains(Self.queueID(line)) {
                #expect(length == 200, "\(line)")
                // The lure's phone number or host is logged before the cut.
                let text = header[..<logged]
                #expect(["555", "example", "-portal", "verify"].contains { text.contains($0) }, "\(line)")
                cut += 1
            } else {
                #expect(length < 200, "\(line)")
                whole += 1
            }
        }
        #expect(cut == swarmQueueIDs.count && cut >= 12 && whole > 0)
    }

    /// The queue id of a Postfix line (`… postfix/cleanup[123]: 4B2A1C3D9F: …`).
    private static func queueID(_ line: Substring) -> Substring {
        let afterPID = line[(line.range(of: "]: ")?.upperBound ?? line.startIndex)...]
        return afterPID.prefix { $0 != ":" }
    }

    @Test("Concentrated strangers invite 3–8 new addresses at one provider; launch day and shared inbox are labelled")
    func concentratedStrangers() throws {
        var config = SimulationConfiguration(
            scenario: Scenario.named("concentrated-strangers")!, seed: 3, format: .jsonl)
        config.scale = 0.2
        let run = try simulate(config)
        let incident = try #require(run.labels.incidents.first)
        #expect(incident.kind == .concentratedStrangers && incident.accounts.count == 60)
        #expect(Set(run.labels.hardNegatives.map(\.kind)).isSuperset(of: [.launchDay, .sharedInbox]))
        var recipients: [String: [String]] = [:]
        var inboxFromOld = 0
        let attackers = Set(incident.accounts)
        for line in String(decoding: run.bytes, as: UTF8.self).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let account = try #require(object["account"] as? String)
            let to = try #require(object["to"] as? [String])
            if attackers.contains(account) { recipients[account, default: []] += to }
            if !account.hasPrefix("t-") && to.contains(where: { $0.hasPrefix("partners@") }) { inboxFromOld += 1 }
        }
        let all = recipients.values.flatMap { $0 }
        #expect(Set(all).count == all.count)
        for list in recipients.values {
            #expect((3...8).contains(list.count))
            #expect(Set(list.map { $0.split(separator: "@").last! }).count == 1)
        }
        #expect(inboxFromOld > 0)
    }

    @Test("Decoy colleague: both waves' accounts each mail one or two addresses at their own new domain first")
    func decoyColleague() throws {
        var config = SimulationConfiguration(scenario: Scenario.named("decoy-colleague")!, seed: 2, format: .jsonl)
        config.scale = 0.2
        let run = try simulate(config)
        #expect(run.labels.incidents.map(\.kind) == [.decoyStrangers, .decoySwarm])
        #expect(run.labels.incidents.map(\.accounts.count) == [60, 150])
        #expect(Set(run.labels.hardNegatives.map(\.kind)).isSuperset(of: [.launchDay, .sharedInbox]))
        let kindOf = Dictionary(
            run.labels.incidents.flatMap { i in i.accounts.map { ($0, i.kind) } }, uniquingKeysWith: { a, _ in a })
        var recipients: [String: [String]] = [:]
        for line in String(decoding: run.bytes, as: UTF8.self).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let account = try #require(object["account"] as? String)
            guard kindOf[account] != nil else { continue }
            recipients[account, default: []] += try #require(object["to"] as? [String])
        }
        #expect(recipients.count == 210)
        for (account, list) in recipients {
            // The decoys come first, at the account's own domain, which no other account mails.
            let domains = list.map { String($0.split(separator: "@").last!) }
            let own = try #require(domains.first)
            let decoys = domains.prefix { $0 == own }.count
            #expect(
                (1...2).contains(decoys) && own.hasSuffix(".example.com") && !domains.dropFirst(decoys).contains(own))
            if kindOf[account] == .decoyStrangers {
                #expect((3...8).contains(list.count - decoys))
                #expect(Set(domains.dropFirst(decoys)).count == 1)
            }
        }
    }

    @Test(
        "Heavy decoys: about 40 % of each account's mails are decoys, the first one of them, the rest strangers at one provider"
    )
    func heavyDecoys() throws {
        let run = try simulate(
            SimulationConfiguration(scenario: Scenario.named("heavy-decoys")!, seed: 2, format: .jsonl))
        #expect(run.labels.incidents.map(\.kind) == [.heavyDecoyStrangers])
        #expect(run.labels.incidents.map(\.accounts.count) == [60])
        #expect(Set(run.labels.hardNegatives.map(\.kind)).isSuperset(of: [.launchDay, .sharedInbox]))
        let attackers = Set(run.labels.incidents.flatMap(\.accounts))
        var recipients: [String: [String]] = [:]
        var others = Set<String>()
        for line in String(decoding: run.bytes, as: UTF8.self).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let account = try #require(object["account"] as? String)
            let to = try #require(object["to"] as? [String])
            if attackers.contains(account) {
                recipients[account, default: []] += to
            } else {
                // The decoys that are not at a company domain come from other accounts' recipients.
                others.formUnion(to)
            }
        }
        #expect(recipients.count == 60)
        let providers = ["webmail.example", "inbox.example.com"]
        var knownDecoys = 0
        var totalDecoys = 0
        var totalMails = 0
        for (account, list) in recipients {
            let domains = list.map { String($0.split(separator: "@").last!) }
            let provider = try #require(domains.last)
            #expect(providers.contains(provider), "\(account)")
            // The first mail is a decoy; the invitations are 3 to 8, all at one provider.
            let invitations = list.filter { $0.hasSuffix("@" + provider) && !others.contains($0) }
            let decoys = list.count - invitations.count
            #expect(!invitations.contains(list[0]), "\(account)")
            #expect((3...8).contains(invitations.count), "\(account)")
            totalDecoys += decoys
            totalMails += list.count
            knownDecoys += list.filter { others.contains($0) }.count
        }
        // Two decoys for every three invitations: 40 % (an invitation to an address another account also
        // mailed counts as a decoy here).
        #expect((0.37...0.45).contains(Double(totalDecoys) / Double(totalMails)))
        // About half the accounts send their decoys to addresses established accounts mailed.
        #expect(knownDecoys > 20)
    }

    /// Each account's recipients in the order mailed, from a JSON-lines run, for `accounts` (every account when nil).
    private func recipientsByAccount(_ bytes: [UInt8], of accounts: Set<String>?) throws -> [String: [String]] {
        var recipients: [String: [String]] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let account = try #require(object["account"] as? String)
            if accounts?.contains(account) ?? true {
                recipients[account, default: []] += try #require(object["to"] as? [String])
            }
        }
        return recipients
    }

    @Test(
        "Spread strangers: no provider gets most of a spreading account's strangers; two strangers: two each, then none"
    )
    func adaptiveStrangers() throws {
        let spread = try simulate(
            SimulationConfiguration(scenario: Scenario.named("spread-strangers")!, seed: 2, format: .jsonl))
        #expect(spread.labels.incidents.map(\.kind) == [.spreadStrangers])
        #expect(
            Set(spread.labels.hardNegatives.map(\.kind)).isSuperset(of: [.launchDay, .webmailFounders, .sharedInbox]))
        let accounts = Set(spread.labels.incidents.flatMap(\.accounts))
        var spreading = 0
        for (account, list) in try recipientsByAccount(spread.bytes, of: accounts) {
            let domains = list.map { String($0.split(separator: "@").last!) }
            #expect((3...8).contains(list.count) && Set(list).count == list.count, "\(account)")
            let top = Dictionary(grouping: domains, by: { $0 }).values.map(\.count).max() ?? 0
            if Set(domains).count > 1 {
                spreading += 1
                #expect(2 * top <= list.count, "\(account): \(domains)")
            }
        }
        #expect(spreading > 15)

        let two = try simulate(
            SimulationConfiguration(scenario: Scenario.named("two-strangers")!, seed: 2, format: .jsonl))
        #expect(two.labels.incidents.map(\.accounts.count) == [120])
        let pairs = try recipientsByAccount(two.bytes, of: Set(two.labels.incidents.flatMap(\.accounts)))
        #expect(pairs.count == 120 && pairs.values.allSatisfy { $0.count == 2 && Set($0).count == 2 })
        // A webmail founder's welcome goes to a consumer provider.
        let founders = Set(two.labels.hardNegatives.filter { $0.kind == .webmailFounders }.flatMap(\.accounts))
        #expect(founders.count == 20)
        for (account, list) in try recipientsByAccount(two.bytes, of: founders) {
            let domain = try #require(list.first?.split(separator: "@").last)
            #expect(Vocabulary.consumerDomains.contains(String(domain)), "\(account): \(domain)")
        }
    }

    @Test(
        "Decoy two strangers: each account one decoy at its own domain first, then two strangers at one large provider")
    func decoyTwoStrangers() throws {
        let run = try simulate(
            SimulationConfiguration(scenario: Scenario.named("decoy-two-strangers")!, seed: 7, format: .jsonl))
        #expect(run.labels.incidents.map(\.kind) == [.decoyTwoStrangers] && BurstKind.decoyTwoStrangers.isAttack)
        #expect(Set(run.labels.hardNegatives.map(\.kind)).isSuperset(of: [.launchDayWebmail, .sharedInbox]))
        let accounts = Set(run.labels.incidents.flatMap(\.accounts))
        #expect(accounts.count == 120)
        let large = Set(Vocabulary.consumerDomains.prefix(2))
        for (account, list) in try recipientsByAccount(run.bytes, of: accounts) {
            let domains = list.map { String($0.split(separator: "@").last!) }
            // The decoy at the tenant's own (not a consumer) domain, then two distinct strangers at one large provider.
            #expect(list.count == 3 && Set(list).count == 3, "\(account): \(list)")
            #expect(!Vocabulary.consumerDomains.contains(domains[0]), "\(account): \(domains)")
            #expect(domains[1] == domains[2] && large.contains(domains[1]), "\(account): \(domains)")
        }
    }

    @Test("Launch day with webmail at realistic shares: most webmail invitees at the big providers, a tail at one")
    func launchDayWebmail() throws {
        let run = try simulate(
            SimulationConfiguration(scenario: Scenario.named("strangers-beside-launch-day")!, seed: 7, format: .jsonl))
        #expect(run.labels.incidents.map(\.kind) == [.concentratedStrangers])
        let group = try #require(run.labels.hardNegatives.first { $0.kind == .launchDayWebmail })
        #expect(!BurstKind.launchDayWebmail.isAttack && group.accounts.count == 300)
        let webmail = Set(Vocabulary.consumerDomains)
        var atLargest = 0
        var atWebmail = 0
        var tail = 0
        for (account, list) in try recipientsByAccount(run.bytes, of: Set(group.accounts)) {
            let own = try #require(list.first?.split(separator: "@").last)
            // The welcome goes to the founder at the tenant's own (company) domain.
            #expect(!webmail.contains(String(own)), "\(account): \(own)")
            let providers = list.map { String($0.split(separator: "@").last!) }.filter { webmail.contains($0) }
            atWebmail += providers.count
            atLargest += providers.filter { $0 == Vocabulary.consumerDomains[0] }.count
            let top = Dictionary(grouping: providers, by: { $0 }).values.map(\.count).max() ?? 0
            if top >= 3 { tail += 1 }
        }
        // 4 in 10 at the largest provider (evenly over ten, 1 in 10, before); a few tenants with three or more at one.
        #expect(atWebmail > 300 && Double(atLargest) > 0.3 * Double(atWebmail), "\(atLargest) of \(atWebmail)")
        #expect((3...30).contains(tail), "\(tail) tenants with three or more at one provider")
    }

    @Test("Organic sign-ups: all run long, a welcome and 1-3 invitations each, every recipient at webmail, most at one")
    func organicSignups() throws {
        let run = try simulate(
            SimulationConfiguration(scenario: Scenario.named("signups-then-two-strangers")!, seed: 3, format: .jsonl))
        let group = try #require(run.labels.hardNegatives.first { $0.kind == .organicSignups })
        #expect(!BurstKind.organicSignups.isAttack)
        let accounts = Set(group.accounts)
        #expect(accounts.count > 50)
        let lists = try recipientsByAccount(run.bytes, of: accounts)
        var atOwn = 0
        var total = 0
        var atLargest = 0
        for (account, list) in lists {
            #expect((1...4).contains(list.count) && Set(list).count == list.count, "\(account): \(list)")
            let domains = list.map { String($0.split(separator: "@").last!) }
            #expect(domains.allSatisfy { Vocabulary.consumerDomains.contains($0) }, "\(account): \(domains)")
            // The welcome goes to the individual's own provider first.
            atOwn += domains.dropFirst().filter { $0 == domains[0] }.count
            total += domains.count - 1
            if domains[0] == Vocabulary.consumerDomains[0] { atLargest += 1 }
        }
        // 3 in 4 invitations at the individual's own provider; 9 in 20 individuals at the largest.
        #expect(Double(atOwn) > 0.6 * Double(total) && Double(atOwn) < 0.9 * Double(total))
        #expect(Double(atLargest) > 0.3 * Double(lists.count) && Double(atLargest) < 0.6 * Double(lists.count))
        // Steady: sign-ups before the wave's start and after its end.
        let firsts = group.firstSend.map(\.microseconds)
        let waveStart = run.labels.incidents[0].firstSend.map(\.microseconds).min() ?? 0
        let waveEnd = run.labels.incidents[0].firstSend.map(\.microseconds).max() ?? 0
        #expect(firsts.contains { $0 < waveStart } && firsts.contains { $0 > waveEnd })
        // From the run's start: inside the warm-up, which a warm-up-learned baseline sees.
        let configuration = SimulationConfiguration(
            scenario: Scenario.named("signups-then-two-strangers")!, seed: 3, format: .jsonl)
        #expect(firsts.contains { $0 < configuration.warmupEnd.microseconds })
        // Every recipient a first contact: no address of theirs is mailed by anyone else, or twice.
        let organic = Set(lists.values.joined())
        let everyone = try recipientsByAccount(run.bytes, of: nil)
        let times = everyone.values.joined().filter { organic.contains($0) }.count
        #expect(times == organic.count && organic.count == lists.values.map(\.count).reduce(0, +))
    }
}
