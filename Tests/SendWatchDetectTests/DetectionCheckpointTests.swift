import SendWatchCore
import SendWatchDetect
import SendWatchTemplates
import SendWatchTesting
import Testing

/// A generated stream that exercises every detector and bound: established background traffic through the
/// warm-up and after, ordinary young sign-ups, a burst, a template swarm with scam text in the slot, a fan-in on
/// one recipient, a campaign sharing one phone number across templates, late and too-late events, registry accounts, and quiet gaps that close alerts.
func makeStream(seed: UInt64) -> [SendEvent] {
    var rng = SplitMix64(seed: seed)
    let t0: Int64 = 1_800_000_000
    var events: [(Int64, Int, SendEvent)] = []
    var serial = 0
    func add(
        _ seconds: Int64, _ account: String, _ recipient: String, _ subject: String?, template: String? = nil,
        created: Int64? = nil, late: Int64 = 0
    ) {
        serial += 1
        let e = SendEvent(
            time: EventTime(seconds: t0 + seconds - late), account: account, accountSource: .header,
            accountCreated: created.map { EventTime(seconds: t0 + $0) }, sender: "no-reply@platform.example",
            recipient: recipient, subject: subject, template: template, messageID: "m\(serial)@platform.example",
            status: .sent)
        // Sorted by the time the line was written (without the lateness), then by serial.
        events.append((seconds, serial, e))
    }
    let domains = ["gmail.example", "webmail.example", "corp\(seed).example", "mail.example"]
    // Established accounts, first seen during the warm-up (1 h), writing all day.
    for i in 0..<40 {
        var t = Int64(i * 50)
        while t < 30_000 {
            let subject = rng.below(3) == 0 ? "Org \(i) GmbH sent you a private message" : "Weekly report \(t / 3600)"
            add(t, "tenant-old-\(i)", "u\(rng.below(30))@\(domains[rng.below(4)])", subject)
            t += Int64(200 + rng.below(600))
        }
    }
    // Ordinary young sign-ups after the warm-up: a handful of messages each.
    for i in 0..<120 {
        let start = Int64(4000 + rng.below(24_000))
        for k in 0..<(1 + rng.below(4)) {
            add(
                start + Int64(k * 30), "signup-\(i)", "friend\(k)@\(domains[rng.below(4)])",
                "Welcome to Team \(i), please confirm your address")
        }
    }
    // A burst: one young account, 160 recipients in about 3 minutes.
    for k in 0..<160 {
        add(9000 + Int64(k), "blaster-1", "victim\(k)@mail\(k % 7).example", "Your parcel is on hold")
    }
    // A swarm: 30 young accounts, scam text in the template's slot, spread recipients.
    for a in 0..<30 {
        for k in 0..<4 {
            add(
                12_000 + Int64(a * 50 + k * 5), "trial-\(a)", "person\(a * 4 + k)@\(domains[k])",
                "Your payment of $499 is pending. Call +1 (888) 555-0\(100 + a) sent you a private message")
        }
    }
    // A fan-in: many young accounts writing to one recipient, with an explicit template id.
    for a in 0..<12 {
        add(16_000 + Int64(a * 40), "fan-\(a)", "ceo@target.example", "Invoice \(a) from Fan \(a)", template: "invoice")
        add(16_010 + Int64(a * 40), "fan-\(a)", "cfo@target.example", "Invoice \(a) from Fan \(a)", template: "invoice")
    }
    // A campaign rotating templates: young accounts put one phone number into a mined and an explicit template.
    for a in 0..<8 {
        if a % 2 == 0 {
            add(
                18_000 + Int64(a * 45), "rotor-\(a)", "mark\(a)@\(domains[a % 4])",
                "Call +1 (888) 555-0199 sent you a private message")
        } else {
            add(
                18_000 + Int64(a * 45), "rotor-\(a)", "mark\(a)@\(domains[a % 4])",
                "Invoice from Call 1-888-555-0199", template: "invoice")
        }
    }
    // Accounts with a creation time on the event, and late events (a few beyond the allowed lateness).
    for k in 0..<60 {
        add(
            20_000 + Int64(k * 20), "created-\(k % 6)", "x\(k)@\(domains[k % 4])", "Reminder \(k % 5)",
            created: 19_000 - Int64(k % 6) * 86_400, late: k % 10 == 0 ? 900 : Int64(rng.below(200)))
    }
    events.sort { ($0.0, $0.1) < ($1.0, $1.1) }
    return events.map(\.2)
}

/// The configuration of the engine tests: every rule on (account rate and shared artefact too), small bounds so that the
/// first-seen table, the templates and the caches evict.
func testConfiguration() -> DetectionConfiguration {
    var c = DetectionConfiguration(
        ages: .init(maxTrackedAccounts: 150, rememberedFilterBits: 1 << 12),
        miner: .init(maxTemplates: 24, cacheSize: 32), memoryBudgetBytes: 1 << 20, maxAlertAccounts: 20)
    c[AccountRateRule.self].enabled = true
    c[AccountRateRule.self].limit = 60
    c[RecipientFanInRule.self].minYoungAccountsPerDomain = 5
    c[SharedArtefactRule.self].enabled = true
    return c
}

private func bytes(_ alerts: [Alert]) -> [UInt8] {
    var w = JSONWriter()
    for a in alerts { a.writeJSONLine(to: &w) }
    return w.bytes
}

func makeEngine(_ c: DetectionConfiguration) -> DetectionEngine {
    var engine = DetectionEngine(configuration: c)
    engine.register(account: "created-0", created: EventTime(seconds: 1_700_000_000))
    engine.register(account: "tenant-old-3", created: EventTime(seconds: 1_799_000_000))
    return engine
}

@Suite struct DetectionCheckpointTests {
    @Test(
        "Checkpoint and restore at any split gives the alerts of an uninterrupted run, byte for byte",
        arguments: [7, 8] as [UInt64])
    func splits(seed: UInt64) throws {
        let c = testConfiguration()
        let events = makeStream(seed: seed)
        // The uninterrupted run, noting after which event the swarm and the burst were first reported.
        var whole = makeEngine(c)
        var expected: [Alert] = []
        var swarmAt: Int?
        var burstAt: Int?
        for (i, e) in events.enumerated() {
            whole.process(e, into: &expected)
            if swarmAt == nil, expected.contains(where: { $0.kind == "template_swarm" }) { swarmAt = i }
            if burstAt == nil, expected.contains(where: { $0.kind == "young_account_burst" }) { burstAt = i }
        }
        whole.advance(to: EventTime(seconds: 1_800_000_000 + 40_000), into: &expected)
        whole.finish(into: &expected)
        let kinds = Set(expected.map(\.kind))
        // The swarm's accounts mail only first contacts at the stream's public domains: a spread wave of
        // `concentrated_strangers` too, so its groups go through the checkpoints.
        #expect(
            kinds == [
                "young_account_burst", "template_swarm", "slot_content", "recipient_fanin", "account_rate",
                "shared_artefact", "concentrated_strangers",
            ])
        #expect(whole.counters.lateEvents > 0 && whole.counters.evictions > 0 && whole.ages.evictions > 0)
        let swarm = try #require(swarmAt)
        let burst = try #require(burstAt)
        let finalState = try encodedState(whole.checkpoint())

        for split in [0, 1, 500, events.count / 2, swarm + 1, swarm + 7, burst + 3, events.count - 1, events.count] {
            var first = makeEngine(c)
            var alerts: [Alert] = []
            for e in events[..<split] { first.process(e, into: &alerts) }
            let saved = try roundTrip(first.checkpoint())
            var second = try DetectionEngine(configuration: c, restoring: saved)
            for e in events[split...] { second.process(e, into: &alerts) }
            second.advance(to: EventTime(seconds: 1_800_000_000 + 40_000), into: &alerts)
            second.finish(into: &alerts)
            #expect(bytes(alerts) == bytes(expected), "split at \(split)")
            #expect(second.counters == whole.counters, "split at \(split)")
            #expect(try encodedState(second.checkpoint()) == finalState, "split at \(split)")
        }
    }

    @Test("A chain of restarts (every 400 events) gives the alerts of an uninterrupted run")
    func chain() throws {
        let c = testConfiguration()
        let events = makeStream(seed: 11)
        var whole = makeEngine(c)
        var expected: [Alert] = []
        for e in events { whole.process(e, into: &expected) }
        whole.finish(into: &expected)
        var engine = makeEngine(c)
        var alerts: [Alert] = []
        for (i, e) in events.enumerated() {
            if i % 400 == 399 {
                engine = try DetectionEngine(configuration: c, restoring: roundTrip(engine.checkpoint()))
            }
            engine.process(e, into: &alerts)
        }
        engine.finish(into: &alerts)
        #expect(bytes(alerts) == bytes(expected))
        #expect(engine.ages._checkInvariants())
        #expect(engine.miner._checkInvariants() == nil)
    }

    @Test("A changed window of template_swarm or slot_content resets that rule's own tables, not the young accounts")
    func ruleWindowResetsItsOwnTables() throws {
        let c = testConfiguration()
        var engine = makeEngine(c)
        var alerts: [Alert] = []
        for e in makeStream(seed: 7).prefix(3000) { engine.process(e, into: &alerts) }
        let saved = try roundTrip(engine.checkpoint())
        var swarm = c
        swarm[TemplateSwarmRule.self].windowSeconds = 7200
        var reset: [String] = []
        _ = DetectionEngine(configuration: swarm, restoringWhatFits: saved, reset: &reset)
        #expect(reset == ["rules.template_swarm"])
        // The slot rule's window is also that of the shared young accounts per slot value.
        var slot = c
        slot[SlotContentRule.self].windowSeconds = 3600
        reset = []
        _ = DetectionEngine(configuration: slot, restoringWhatFits: saved, reset: &reset)
        #expect(reset == ["shared_tables", "rules.slot_content"])
    }

    @Test("Restoring with a configuration the state does not fit throws")
    func configurationMismatch() throws {
        let c = testConfiguration()
        var engine = makeEngine(c)
        var alerts: [Alert] = []
        for e in makeStream(seed: 7).prefix(3000) { engine.process(e, into: &alerts) }
        let saved = try roundTrip(engine.checkpoint())
        _ = try DetectionEngine(configuration: c, restoring: saved)
        var changes: [(inout DetectionConfiguration) -> Void] = [
            { $0.memoryBudgetBytes = 2 << 20 },
            { $0[YoungAccountBurstRule.self].windowSeconds = 1200 },
            { $0[YoungAccountBurstRule.self].longWindowSeconds = 7200 },
            { $0[TemplateSwarmRule.self].windowSeconds = 7200 },
            { $0[TemplateSwarmRule.self].baselineHalfLifeWindows = 12 },
            { $0.maxAlertAccounts = 500 },
            { $0.ages.maxTrackedAccounts = 100 },
            { $0.ages.rememberedFilterBits = 1 << 20 },
            { $0[RecipientFanInRule.self].windowSeconds = 7200 },
            { $0[SlotContentRule.self].windowSeconds = 3600 },
            { $0[SharedArtefactRule.self].windowSeconds = 3600 },
        ]
        changes.append { $0.miner.maxTemplates = 1 }
        for (i, change) in changes.enumerated() {
            var other = c
            change(&other)
            #expect(throws: (any Error).self, "change \(i)") {
                try DetectionEngine(configuration: other, restoring: saved)
            }
        }
        // Settings that only steer later decisions may change.
        var other = c
        other[TemplateSwarmRule.self].minYoungAccounts = 5
        other.lifecycle.cooldownSeconds = 600
        // A higher bound on tracked accounts: the saved first-seen table fits and grows from there.
        other.ages.maxTrackedAccounts = 1000
        _ = try DetectionEngine(configuration: other, restoring: saved)
        // A rule turned off since the checkpoint is left out, and one turned on starts afresh, as long as the
        // tables keep their bounds (`young_account_burst` has no share of the budget).
        var fewer = c
        fewer[YoungAccountBurstRule.self].enabled = false
        let restored = try DetectionEngine(configuration: fewer, restoring: saved)
        _ = try DetectionEngine(configuration: c, restoring: roundTrip(restored.checkpoint()))
        // A rule with a share of the budget changes every table's bound when it is turned on or off (the shares
        // are scaled to the budget): refused, like any other budget change.
        for off: (inout DetectionConfiguration) -> Void in [
            { $0[SharedArtefactRule.self].enabled = false }, { $0[TemplateSwarmRule.self].enabled = false },
        ] {
            fewer = c
            off(&fewer)
            #expect(throws: DetectionCheckpointError.self) {
                try DetectionEngine(configuration: fewer, restoring: saved)
            }
        }
    }

    @Test("Damaged engine snapshots throw instead of trapping")
    func damaged() throws {
        let c = testConfiguration()
        var engine = makeEngine(c)
        var alerts: [Alert] = []
        let events = makeStream(seed: 7)
        // Stop inside the swarm, with alerts open.
        for e in events {
            engine.process(e, into: &alerts)
            if alerts.contains(where: { $0.kind == "slot_content" }) { break }
        }
        let saved = engine.checkpoint()
        _ = try decodeDamaged(saved) { _ in }
        func nested(_ path: [String], _ o: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
            guard let first = path.first else { return edit(&o) }
            var inner = o[first] as! [String: Any]
            nested(Array(path.dropFirst()), &inner, edit)
            o[first] = inner
        }
        let edits: [(inout [String: Any]) -> Void] = [
            { o in nested(["tables", "young"], &o) { $0["next"] = ($0["next"] as! [Int]).map { _ in 12345 } } },
            { o in nested(["tables", "templates"], &o) { $0["keys"] = [UInt64(1)] } },
            { o in
                // The rules' states: an array of each rule's name followed by its state.
                var rules = o["rules"] as! [Any]
                let i = rules.firstIndex { $0 as? String == "template_swarm" }! + 1
                var swarm = rules[i] as! [String: Any]
                nested(["pairs"], &swarm) { $0["free"] = [Int32(-5)] }
                rules[i] = swarm
                o["rules"] = rules
            },
            { o in nested(["ages"], &o) { $0["slotFlags"] = [UInt8](repeating: 1, count: 16) } },
            { o in nested(["ages"], &o) { $0["slotIndices"] = [UInt32(5), UInt32(3)] } },
            { o in nested(["ages"], &o) { $0["slotCount"] = 1 << 40 } },
            { o in nested(["ages"], &o) { $0["hand"] = 1 << 40 } },
            { o in nested(["ages"], &o) { $0["tracked"] = 3 } },
            { o in nested(["lifecycle", "open"], &o) { $0["keys"] = [UInt64]() } },
            { o in nested(["miner"], &o) { $0["wordPostings"] = ($0["wordPostings"] as! [Int]).map { _ in 99_999 } } },
            { o in nested(["establishedDomains"], &o) { $0["counters"] = [UInt32(1)] } },
            { o in nested(["counters"], &o) { $0["events"] = -1 } },
            { o in o["watermark"] = Int64.max },
            { o in
                var lifecycle = o["lifecycle"] as! [String: Any]
                var columns = lifecycle["open"] as! [String: Any]
                var open = columns["values"] as! [[String: Any]]
                var last = open[0]["last"] as! [String: Any]
                var evidence = last["evidence"] as! [String: Any]
                evidence["tags"] = [6, 6, 6]
                last["evidence"] = evidence
                open[0]["last"] = last
                columns["values"] = open
                lifecycle["open"] = columns
                o["lifecycle"] = lifecycle
            },
            { o in
                var tables = o["tables"] as! [String: Any]
                var templates = tables["templates"] as! [String: Any]
                var values = templates["values"] as! [Any]
                let index = values.firstIndex { $0 is [String: Any] }!
                var value = values[index] as! [String: Any]
                value["topSlotCounts"] = [Int64(1), 2, 3, 4, 5, 6, 7, 8, 9]
                values[index] = value
                templates["values"] = values
                tables["templates"] = templates
                o["tables"] = tables
            },
        ]
        for (i, edit) in edits.enumerated() {
            #expect(throws: DecodingError.self, "edit \(i)") { try decodeDamaged(saved, edit) }
        }
    }

    @Test("Account ages, registry included, continue identically after a round trip")
    func accountAges() throws {
        let configuration = AccountAges.Configuration(
            warmupSeconds: 600, maxTrackedAccounts: 100, rememberedFilterBits: 1 << 10)
        var a = AccountAges(configuration: configuration)
        a.register(account: "known", created: EventTime(seconds: 1_000))
        var rng = SplitMix64(seed: 3)
        var t: Int64 = 1_800_000_000
        for _ in 0..<3000 {
            t += Int64(rng.below(30))
            _ = a.observe(account: "acct-\(rng.below(400))", created: nil, at: EventTime(seconds: t))
        }
        var b = try AccountAges(configuration: configuration, restoring: roundTrip(a.checkpoint()))
        #expect(b._checkInvariants() && b.registered == 1 && b.tracked == a.tracked && b.evictions == a.evictions)
        for _ in 0..<3000 {
            t += Int64(rng.below(30))
            let name = rng.below(50) == 0 ? "known" : "acct-\(rng.below(400))"
            let now = EventTime(seconds: t)
            #expect(a.observe(account: name, created: nil, at: now) == b.observe(account: name, created: nil, at: now))
        }
        #expect(try encodedState(a.checkpoint()) == encodedState(b.checkpoint()))
    }

    @Test("Account ages saved while the table is still growing continue identically; a table too large is refused")
    func accountAgesGrowing() throws {
        let configuration = AccountAges.Configuration(
            warmupSeconds: 600, maxTrackedAccounts: 20_000, rememberedFilterBits: 1 << 10)
        var a = AccountAges(configuration: configuration)
        var rng = SplitMix64(seed: 5)
        var t: Int64 = 1_800_000_000
        for _ in 0..<3000 {
            t += Int64(rng.below(3))
            _ = a.observe(account: "acct-\(rng.below(30_000))", created: nil, at: EventTime(seconds: t))
        }
        #expect(a._slotCount > 1024 && a._slotCount < 65536)
        var b = try AccountAges(configuration: configuration, restoring: roundTrip(a.checkpoint()))
        #expect(b._slotCount == a._slotCount && b._checkInvariants())
        for _ in 0..<30_000 {
            t += Int64(rng.below(3))
            let name = "acct-\(rng.below(30_000))"
            let now = EventTime(seconds: t)
            #expect(a.observe(account: name, created: nil, at: now) == b.observe(account: name, created: nil, at: now))
        }
        #expect(a._slotCount == 65536 && a.evictions > 0)
        #expect(try encodedState(a.checkpoint()) == encodedState(b.checkpoint()))
        // A configuration with a smaller bound cannot hold the saved table.
        let smaller = AccountAges.Configuration(
            warmupSeconds: 600, maxTrackedAccounts: 1_000, rememberedFilterBits: 1 << 10)
        #expect(throws: DetectionCheckpointError.self) {
            try AccountAges(configuration: smaller, restoring: roundTrip(a.checkpoint()))
        }
    }

    @Test("An alert with nested evidence round-trips exactly, and deep nesting is refused")
    func alertCoding() throws {
        let alert = Alert(
            id: "sw-1", action: .update, kind: "template_swarm", severity: .critical, score: 2.5,
            eventTime: EventTime(microseconds: 1_800_000_000_123_456),
            firstEventTime: EventTime(seconds: 1_799_999_000),
            accounts: ["a", "b"], accountsTotal: 7, template: AlertTemplate(id: "00ff", text: "<*> sent you"),
            evidence: [
                ("n", .int(3)), ("x", .double(0.1)), ("ok", .bool(false)), ("none", .null),
                ("list", .array([.string("s"), .object([]), .array([.int(-1)])])),
                ("obj", .object([("k", .object([("deep", .string("v"))]))])),
            ],
            reasons: ["why"])
        let back = try roundTrip(alert)
        #expect(back == alert)
        #expect(bytes([back]) == bytes([alert]))
        var deep = JSONValue.int(1)
        for _ in 0..<40 { deep = .array([deep]) }
        #expect(throws: DecodingError.self) { try roundTrip(deep) }
        #expect(throws: DecodingError.self) { try roundTrip(EventTime(microseconds: Int64.min)) }
    }
}
