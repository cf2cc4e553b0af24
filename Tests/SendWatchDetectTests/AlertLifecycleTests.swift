import Foundation
import SendWatchCore
import SendWatchDetect
import SendWatchTesting
import Testing

func finding(_ key: String, accounts: Int, volume: Int, severity: Severity = .medium, first: Int64 = 0) -> Finding {
    Finding(
        kind: TemplateSwarmRule.name, key: key, severity: severity, score: Double(accounts),
        firstEventTime: EventTime(seconds: first), accounts: (0..<min(accounts, 3)).map { "a\($0)" },
        accountsTotal: accounts, volume: volume, template: nil, evidence: [("n", .int(accounts))], reasons: ["r"])
}

func at(_ seconds: Int64) -> EventTime { EventTime(seconds: seconds) }

@Suite struct AlertLifecycleTests {
    @Test("A finding creates an alert; small growth within the interval is held; big growth updates at once")
    func createAndUpdate() {
        var l = AlertLifecycle()
        let created = l.take(finding("t1", accounts: 10, volume: 80), at: at(100))
        #expect(created.map(\.action) == [.create])
        #expect(l.take(finding("t1", accounts: 11, volume: 90), at: at(160)).isEmpty)
        let grown = l.take(finding("t1", accounts: 20, volume: 170), at: at(200))
        #expect(grown.map(\.action) == [.update])
        #expect(grown.first?.id == created.first?.id)
        #expect(grown.first?.accountsTotal == 20)
        // Smaller change, but after the minimum update interval.
        let later = l.take(finding("t1", accounts: 21, volume: 175), at: at(200 + 600))
        #expect(later.map(\.action) == [.update])
        // Nothing new: no record.
        #expect(l.take(finding("t1", accounts: 21, volume: 175), at: at(200 + 1300)).isEmpty)
    }

    @Test("Severity only rises, and a rise is an update")
    func severity() {
        var l = AlertLifecycle()
        _ = l.take(finding("t", accounts: 10, volume: 10, severity: .high), at: at(0))
        let up = l.take(finding("t", accounts: 10, volume: 10, severity: .critical), at: at(1))
        #expect(up.first?.severity == .critical)
        let down = l.take(finding("t", accounts: 30, volume: 30, severity: .low), at: at(2))
        #expect(down.first?.severity == .critical)
    }

    @Test("Quiet for the cooldown closes with the final figures; a later finding is a new alert")
    func closeAndReopen() {
        var l = AlertLifecycle()
        let a = l.take(finding("t", accounts: 10, volume: 10), at: at(0))
        _ = l.take(finding("t", accounts: 12, volume: 12), at: at(60))
        #expect(l.advance(to: at(60 + 1799)).isEmpty)
        let closed = l.advance(to: at(60 + 1800))
        #expect(closed.map(\.action) == [.close])
        #expect(closed.first?.id == a.first?.id)
        #expect(closed.first?.accountsTotal == 12)
        #expect(closed.first?.eventTime == at(60 + 1800))
        let b = l.take(finding("t", accounts: 10, volume: 10, first: 5000), at: at(5000))
        #expect(b.map(\.action) == [.create])
        #expect(b.first?.id != a.first?.id)
    }

    @Test("An alert that closes and opens again with the same first event time gets a new id, the same in every run")
    func reopenedWithSameFirstTime() {
        func run() -> [String] {
            var l = AlertLifecycle()
            let a = l.take(finding("t", accounts: 3, volume: 3, first: 10), at: at(100))
            _ = l.advance(to: at(100 + 1800))
            let b = l.take(finding("t", accounts: 3, volume: 3, first: 10), at: at(5000))
            return (a + b).map(\.id)
        }
        let ids = run()
        #expect(ids.count == 2)
        #expect(ids[0] != ids[1])
        #expect(run() == ids)
    }

    @Test("Alerts that share a lure artefact share an incident, whatever accounts they list")
    func incidentsByArtefact() throws {
        var lifecycle = AlertLifecycle()
        var text = finding("text:refund pending call #", accounts: 1, volume: 1)
        text.accounts = ["t1"]
        text.artefacts = [StableHash.of("text:refund pending call #"), StableHash.of("phone:18885550163")]
        let first = try #require(lifecycle.take(text, at: at(10)).first)
        var phone = finding("phone:18885550163", accounts: 1, volume: 1)
        phone.accounts = ["t2"]
        phone.artefacts = [StableHash.of("phone:18885550163")]
        #expect(lifecycle.take(phone, at: at(20)).first?.incident == first.id)
        var unrelated = finding("phone:18005550100", accounts: 1, volume: 1)
        unrelated.accounts = ["t3"]
        unrelated.artefacts = [StableHash.of("phone:18005550100")]
        let other = try #require(lifecycle.take(unrelated, at: at(30)).first)
        #expect(other.incident == other.id)
        // Survives a checkpoint: the restored lifecycle links a new alert by the saved artefacts.
        let data = try JSONEncoder().encode(lifecycle.checkpoint())
        var restored = try AlertLifecycle(
            configuration: .init(), restoring: try JSONDecoder().decode(AlertLifecycle.Checkpoint.self, from: data))
        var again = finding("domain:refund-desk.example", accounts: 1, volume: 1)
        again.accounts = ["t4"]
        again.artefacts = [StableHash.of("domain:refund-desk.example"), StableHash.of("phone:18885550163")]
        #expect(restored.take(again, at: at(40)).first?.incident == first.id)
    }

    /// A finding of rule `kind` about `key`; the template rules' findings are about template `key`, the
    /// others about no template.
    static func f(_ kind: String, _ key: String, _ accounts: [String]) -> Finding {
        let template = ["slot_content", "template_swarm"].contains(kind) ? AlertTemplate(id: key, text: "<*>") : nil
        return Finding(
            kind: RuleName(kind), key: key, severity: .medium, score: 1, firstEventTime: at(0), accounts: accounts,
            accountsTotal: accounts.count, volume: accounts.count, template: template, evidence: [], reasons: [])
    }

    @Test("An aggregate alert joins the one incident holding most of its accounts and never merges two by account")
    func aggregateAlertsDoNotMergeAttackers() throws {
        var l = AlertLifecycle()
        let swarm = l.take(Self.f("slot_content", "t1", ["a", "b", "c"]), at: at(10))[0]
        let burst = l.take(Self.f("young_account_burst", "y", ["y"]), at: at(20))[0]
        // Over all templates: accounts of both attackers, most of them the swarm's.
        let strangers = l.take(Self.f("concentrated_strangers", "all", ["a", "b", "y"]), at: at(30))[0]
        #expect(strangers.incident == swarm.id)
        #expect(strangers.mergedIncidents.isEmpty)
        // Its update lists the burst's account again: it stays where it is, and the burst stays apart.
        let update = try #require(
            l.take(Self.f("concentrated_strangers", "all", ["a", "b", "c", "d", "e", "y"]), at: at(40)).first)
        #expect(update.incident == swarm.id && update.mergedIncidents.isEmpty)
        let rate = l.take(Self.f("account_rate", "y", ["y"]), at: at(710))[0]
        #expect(rate.incident == burst.id)
        // Closed and remembered, the aggregate alert's accounts still link nothing.
        let closes = l.advance(to: at(5000))
        #expect(closes.allSatisfy { $0.kind != "concentrated_strangers" || $0.incident == swarm.id })
        let later = l.take(Self.f("account_rate", "y", ["y"]), at: at(6000))[0]
        #expect(later.incident == burst.id)
    }

    @Test("A campaign's alert created after an aggregate alert pulls it in; a second attacker's alert does not")
    func aggregateAlertPulledIn() throws {
        var l = AlertLifecycle()
        let strangers = l.take(Self.f("recipient_fanin", "r", ["a", "b", "y"]), at: at(10))[0]
        #expect(strangers.incident == strangers.id)
        // The swarm's alert pulls it in: the aggregate alert's incident is the older one, so its id stays.
        let swarm = l.take(Self.f("slot_content", "t1", ["a", "b"]), at: at(20))[0]
        #expect(swarm.incident == strangers.id)
        #expect(swarm.mergedIncidents.isEmpty)
        let burst = l.take(Self.f("young_account_burst", "y", ["y"]), at: at(30))[0]
        #expect(burst.incident == burst.id)
        // Another aggregate alert over the same accounts joins the swarm's incident, not the burst's.
        let fanin = l.take(Self.f("recipient_fanin", "r2", ["a", "b", "y"]), at: at(40))[0]
        #expect(fanin.incident == strangers.id)
        #expect(l.take(Self.f("account_rate", "y", ["y"]), at: at(50))[0].incident == burst.id)
    }

    @Test("Alerts of different rules listing the same accounts share an incident; unrelated alerts do not")
    func incidents() {
        var l = AlertLifecycle()
        let slot = l.take(Self.f("slot_content", "t1", ["a", "b", "c"]), at: at(10))[0]
        #expect(slot.incident == slot.id)
        let swarm = l.take(Self.f("template_swarm", "t1", ["c", "d"]), at: at(20))[0]
        #expect(swarm.id != slot.id)
        #expect(swarm.incident == slot.id)
        #expect(swarm.mergedIncidents.isEmpty)
        let other = l.take(Self.f("template_swarm", "t2", ["x", "y"]), at: at(30))[0]
        #expect(other.incident == other.id)
    }

    @Test("An alert that links two incidents merges them: the oldest id stays, later records name the merged one")
    func incidentsMerge() throws {
        var l = AlertLifecycle()
        let slot = l.take(Self.f("slot_content", "t1", ["a", "b", "c"]), at: at(10))[0]
        let other = l.take(Self.f("template_swarm", "t2", ["x", "y"]), at: at(30))[0]
        #expect(other.incident == other.id)
        // The update of t2 lists "a", an account of the older incident: both become the older one.
        let update = try #require(l.take(Self.f("template_swarm", "t2", ["a", "x", "y", "z", "w"]), at: at(40)).first)
        #expect(update.incident == slot.id)
        #expect(update.mergedIncidents == [other.id])
        // Every later record of the older incident's alerts names the merge too.
        let slotUpdate = try #require(
            l.take(Self.f("slot_content", "t1", ["a", "b", "c", "e", "f", "g"]), at: at(50)).first)
        #expect(slotUpdate.incident == slot.id)
        #expect(slotUpdate.mergedIncidents == [other.id])
        // A new alert that links both merged alerts joins the one incident, whichever it meets first.
        let third = l.take(Self.f("recipient_fanin", "r", ["x", "b"]), at: at(60))[0]
        #expect(third.incident == slot.id)
        #expect(third.mergedIncidents == [other.id])
        let closes = l.advance(to: at(60 + 1800))
        #expect(closes.count == 3)
        #expect(closes.allSatisfy { $0.incident == slot.id && $0.mergedIncidents == [other.id] })
    }

    @Test("The older incident keeps its id whichever alert links them, and merges are the same after a checkpoint")
    func incidentsMergeOrder() throws {
        var l = AlertLifecycle()
        let old = l.take(Self.f("slot_content", "t1", ["a"]), at: at(10))[0]
        let young = l.take(Self.f("slot_content", "t2", ["b"]), at: at(20))[0]
        let data = try JSONEncoder().encode(l.checkpoint())
        var restored = try AlertLifecycle(
            configuration: .init(), restoring: try JSONDecoder().decode(AlertLifecycle.Checkpoint.self, from: data))
        for lifecycle in [l, restored] {
            var m = lifecycle
            // The younger incident's alert links the older one: the older id stays.
            let update = try #require(m.take(Self.f("slot_content", "t2", ["a", "b"]), at: at(30)).first)
            #expect(update.incident == old.id)
            #expect(update.mergedIncidents == [young.id])
        }
        _ = restored.take(Self.f("slot_content", "t2", ["a", "b"]), at: at(30))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let saved = try encoder.encode(restored.checkpoint())
        let decoded = try JSONDecoder().decode(AlertLifecycle.Checkpoint.self, from: saved)
        var again = try AlertLifecycle(configuration: .init(), restoring: decoded)
        #expect(try encoder.encode(again.checkpoint()) == saved)
        #expect(again.take(Self.f("account_rate", "b", ["b"]), at: at(40)).first?.incident == old.id)
    }

    @Test("A restored lifecycle links by account to open and remembered alerts, and an update's new accounts link")
    func accountsLinkAfterRestore() throws {
        var l = AlertLifecycle()
        let closing = l.take(Self.f("shared_artefact", "text:x", ["a"]), at: at(0))[0]
        #expect(l.advance(to: at(1800)).map(\.action) == [.close])
        let open = l.take(Self.f("slot_content", "t1", ["m", "n"]), at: at(1900))[0]
        #expect(open.incident == open.id)
        let data = try JSONEncoder().encode(l.checkpoint())
        var restored = try AlertLifecycle(
            configuration: .init(), restoring: try JSONDecoder().decode(AlertLifecycle.Checkpoint.self, from: data))
        // Named only by the remembered alert, then only by the open one: each links by its saved accounts.
        #expect(restored.take(Self.f("template_swarm", "u", ["a"]), at: at(2000))[0].incident == closing.id)
        #expect(restored.take(Self.f("template_swarm", "v", ["n"]), at: at(2100))[0].incident == open.id)
        // An update that lists a new account ("q") links a later alert naming only that account.
        let grown = restored.take(Self.f("slot_content", "t1", ["m", "n", "q", "r", "s"]), at: at(2200))
        #expect(grown.map(\.action) == [.update])
        #expect(restored.take(Self.f("template_swarm", "w", ["q"]), at: at(2300))[0].incident == open.id)
    }

    @Test("A campaign slower than the cooldown stays one incident for incident_memory after its alerts close")
    func incidentMemory() throws {
        var l = AlertLifecycle()
        let first = l.take(Self.f("shared_artefact", "text:x", ["a"]), at: at(0))[0]
        #expect(l.advance(to: at(1800)).map(\.action) == [.close])
        #expect(l.rememberedClosedCount == 1)
        // 86 minutes later a new alert listing the same account joins the closed alert's incident.
        let later = l.take(Self.f("slot_content", "t", ["a", "b"]), at: at(86 * 60))[0]
        #expect(later.incident == first.id)
        // Past the memory (24 h after the close) it does not.
        _ = l.advance(to: at(86 * 60 + 1800))
        let much = l.take(Self.f("template_swarm", "u", ["b"]), at: at(86 * 60 + 1800 + 86_401))[0]
        #expect(much.incident == much.id)
        // With incident_memory 0 only open alerts link.
        var none = AlertLifecycle(configuration: .init(incidentMemorySeconds: 0))
        _ = none.take(Self.f("shared_artefact", "text:x", ["a"]), at: at(0))
        _ = none.advance(to: at(1800))
        #expect(none.rememberedClosedCount == 0)
        let alone = none.take(Self.f("slot_content", "t", ["a"]), at: at(86 * 60))[0]
        #expect(alone.incident == alone.id)
    }

    @Test("The closed-alert memory holds at most max_open alerts, forgetting the one closed first")
    func incidentMemoryBound() {
        var l = AlertLifecycle(configuration: .init(maxOpenAlerts: 2))
        for (i, account) in ["a", "b", "c"].enumerated() {
            _ = l.take(Self.f("slot_content", "t\(i)", [account]), at: at(Int64(i) * 2000))
            _ = l.advance(to: at(Int64(i) * 2000 + 1800))
        }
        #expect(l.rememberedClosedCount == 2)
        let a = l.take(Self.f("slot_content", "n1", ["a"]), at: at(7000))[0]
        #expect(a.incident == a.id)
        let c = l.take(Self.f("slot_content", "n2", ["c"]), at: at(7000))[0]
        #expect(c.incident != c.id)
    }

    @Test("A finding held back by the update interval is emitted when the interval ends, without a new finding")
    func heldFindingEmittedAfterInterval() {
        var l = AlertLifecycle()
        _ = l.take(finding("t", accounts: 10, volume: 10), at: at(0))
        #expect(l.take(finding("t", accounts: 11, volume: 11), at: at(120)).isEmpty)
        #expect(l.emitHeld(at: at(599)).isEmpty)
        #expect(l.advance(to: at(600)).isEmpty)
        let update = l.emitHeld(at: at(600))
        #expect(update.map(\.action) == [.update])
        #expect(update.first?.accountsTotal == 11)
        #expect(update.first?.eventTime == at(600))
        #expect(l.emitHeld(at: at(660)).isEmpty)
        #expect(l.isOpen(kind: TemplateSwarmRule.name, key: "t"))
    }

    @Test("Ids are deterministic and differ by kind, key and first event time")
    func ids() {
        var l1 = AlertLifecycle()
        var l2 = AlertLifecycle()
        let x = l1.take(finding("k", accounts: 1, volume: 1), at: at(0)).first?.id
        let y = l2.take(finding("k", accounts: 1, volume: 1), at: at(0)).first?.id
        #expect(x == y)
        #expect(x?.hasPrefix("sw-") == true && x?.count == 19)
        let z = l2.take(finding("k2", accounts: 1, volume: 1), at: at(0)).first?.id
        #expect(z != x)
    }

    @Test("Flushing reports evidence held back since the last record, once")
    func flush() {
        var l = AlertLifecycle()
        _ = l.take(finding("t", accounts: 10, volume: 10), at: at(0))
        _ = l.take(finding("t", accounts: 11, volume: 11), at: at(30))
        let flushed = l.flushPending(at: at(40))
        #expect(flushed.map(\.action) == [.update])
        #expect(flushed.first?.accountsTotal == 11)
        #expect(l.flushPending(at: at(50)).isEmpty)
        #expect(l.openCount == 1)
    }

    @Test("At the open-alert bound the quietest alert is closed to make room")
    func bound() {
        var l = AlertLifecycle(configuration: .init(maxOpenAlerts: 2))
        _ = l.take(finding("a", accounts: 1, volume: 1), at: at(0))
        _ = l.take(finding("b", accounts: 1, volume: 1), at: at(10))
        let out = l.take(finding("c", accounts: 1, volume: 1), at: at(20))
        #expect(out.map(\.action) == [.close, .create])
        #expect(l.openCount == 2)
        #expect(l.closedEarly == 1)
    }

    @Test("Alert JSON has schema version 5 with the documented key order")
    func json() {
        var l = AlertLifecycle()
        var f = finding("t", accounts: 2, volume: 3)
        f.template = AlertTemplate(id: "00000000000000ff", text: "<*> sent you a private message")
        f.evidence = [
            ("young_accounts", .int(2)), ("window", .string("1h")), ("ratio", .double(2.5)),
            ("samples", .array([.string("m1"), .null])), ("nested", .object([("x", .bool(true))])),
        ]
        let a = l.take(f, at: at(1_795_929_194))[0]
        var w = JSONWriter()
        a.writeJSONLine(to: &w)
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(
            text
                == #"{"v":5,"id":"\#(a.id)","incident":"\#(a.id)","action":"create","kind":"template_swarm","severity":"medium","score":2,"event_time":"2026-11-29T05:13:14Z","first_event_time":"1970-01-01T00:00:00Z","accounts":["a0","a1"],"accounts_total":2,"template":{"id":"00000000000000ff","key":"00000000000000ff","text":"<*> sent you a private message"},"evidence":{"young_accounts":2,"window":"1h","ratio":2.5,"samples":["m1",null],"nested":{"x":true}},"reasons":["r"]}"#
                + "\n")
    }
}

@Suite struct OCSFTests {
    @Test("OCSF Detection Finding records: class 2004, activity per action, accounts as observables")
    func ocsf() throws {
        var l = AlertLifecycle()
        let created = l.take(finding("t", accounts: 2, volume: 2, severity: .critical), at: at(1_795_929_194))[0]
        var w = JSONWriter()
        created.writeOCSFLine(to: &w, productVersion: "9.9")
        let text = String(decoding: w.bytes, as: UTF8.self)
        #expect(
            text.hasPrefix(
                #"{"class_uid":2004,"class_name":"Detection Finding","category_uid":2,"category_name":"Findings","activity_id":1,"activity_name":"Create","type_uid":200401,"time":1795929194000,"severity_id":5,"severity":"Critical","status_id":1,"#
            ))
        #expect(text.contains(#""finding_info":{"uid":"\#(created.id)","title":"template_swarm""#))
        #expect(text.contains(#"{"name":"account","type_id":4,"type":"User Name","value":"a0"}"#))
        #expect(
            text.contains(
                #""unmapped":{"sendwatch_schema":5,"incident":"\#(created.id)","score":2,"accounts_total":2,"template":null,"evidence":{"n":2}}"#
            ))
        let closed = l.advance(to: at(1_795_929_194 + 3600))[0]
        var c = JSONWriter()
        closed.writeOCSFLine(to: &c, productVersion: "9.9")
        let ct = String(decoding: c.bytes, as: UTF8.self)
        #expect(ct.contains(#""activity_id":3,"activity_name":"Close","type_uid":200403"#))
        #expect(ct.contains(#""status_id":4"#))
    }

    @Test("OCSF observables carry the evidence's logins, client IPs, recipients, domains, queue and message ids")
    func ocsfObservables() {
        var l = AlertLifecycle()
        var f = finding("t", accounts: 1, volume: 1)
        f.evidence = [
            ("sample_message_ids", .array([.string("m1@x.test")])),
            (
                "submitters",
                .object([
                    ("logins", .array([.string("mallory")])), ("client_ips", .array([.string("203.0.113.6")])),
                ])
            ),
            (
                "deliveries",
                .object([
                    ("recipients", .array([.string("v@a.test")])), ("recipient_domains", .array([.string("a.test")])),
                    ("queue_ids", .array([.string("4XyZ1")])),
                ])
            ),
        ]
        let a = l.take(f, at: at(1_795_929_194))[0]
        var w = JSONWriter()
        a.writeOCSFLine(to: &w, productVersion: "9.9")
        let text = String(decoding: w.bytes, as: UTF8.self)
        let expected: [String] = [
            #"{"name":"account","type_id":4,"type":"User Name","value":"a0"}"#,
            #"{"name":"login","type_id":4,"type":"User Name","value":"mallory"}"#,
            #"{"name":"client_ip","type_id":2,"type":"IP Address","value":"203.0.113.6"}"#,
            #"{"name":"recipient","type_id":5,"type":"Email Address","value":"v@a.test"}"#,
            #"{"name":"recipient_domain","type_id":1,"type":"Hostname","value":"a.test"}"#,
            #"{"name":"queue_id","type_id":99,"type":"Other","value":"4XyZ1"}"#,
            #"{"name":"message_id","type_id":99,"type":"Other","value":"m1@x.test"}"#,
        ]
        let observables = #""observables":["# + expected.joined(separator: ",") + "],"
        #expect(text.contains(observables))
    }
}

@Suite("What a record adds to the previous one")
struct AlertAdditionsTests {
    func finding(_ accounts: [String], messages: [String], volume: Int) -> Finding {
        Finding(
            kind: TemplateSwarmRule.name, key: "t", severity: .medium, score: 1, firstEventTime: at(0),
            accounts: accounts, accountsTotal: accounts.count, volume: volume,
            template: AlertTemplate(id: "00000000000000aa", text: "<*> says hi", logged: "private-message"),
            evidence: [("n", .int(accounts.count)), ("sample_message_ids", .array(messages.map(JSONValue.string)))],
            reasons: ["r"])
    }

    @Test("Updates and closes list the accounts and evidence strings new since the previous record; creates none")
    func added() {
        var l = AlertLifecycle()
        let create = l.take(finding(["a", "b"], messages: ["m1"], volume: 2), at: at(0))
        #expect(create.first?.added == nil)
        let update = l.take(finding(["a", "b", "c", "d"], messages: ["m1", "m2"], volume: 4), at: at(10))
        #expect(update.map(\.action) == [.update])
        #expect(update.first?.added?.map(\.key) == ["accounts", "sample_message_ids"])
        #expect(update.first?.added?.map(\.values) == [["c", "d"], ["m2"]])
        // Held (small growth), then reported by the close.
        #expect(l.take(finding(["a", "b", "c", "d", "e"], messages: ["m1", "m2"], volume: 5), at: at(20)).isEmpty)
        let close = l.advance(to: at(20 + 1800))
        #expect(close.map(\.action) == [.close])
        #expect(close.first?.added?.map(\.key) == ["accounts"])
        #expect(close.first?.added?.map(\.values) == [["e"]])
    }

    @Test("A close with nothing new says so with an empty account list")
    func closeWithoutNews() {
        var l = AlertLifecycle()
        _ = l.take(finding(["a"], messages: ["m1"], volume: 1), at: at(0))
        let close = l.advance(to: at(1800))
        #expect(close.first?.added?.map(\.key) == ["accounts"])
        #expect(close.first?.added?.map(\.values) == [[]])
    }

    @Test("The record writes added after accounts_total, and the template's logged id with its key")
    func json() throws {
        var l = AlertLifecycle()
        let create = l.take(finding(["a"], messages: ["m1"], volume: 1), at: at(0))
        let update = l.take(finding(["a", "b"], messages: ["m1", "m2"], volume: 2), at: at(10))
        var w = JSONWriter()
        try #require(create.first).writeJSONLine(to: &w)
        try #require(update.first).writeJSONLine(to: &w)
        let lines = String(decoding: w.bytes, as: UTF8.self).split(separator: "\n")
        #expect(lines[0].hasPrefix(#"{"v":5,"#))
        #expect(!lines[0].contains(#""added""#))
        #expect(
            lines[0].contains(
                #""accounts_total":1,"template":{"id":"private-message","key":"00000000000000aa","text":"<*> says hi"}"#
            ))
        #expect(
            lines[1].contains(#""accounts_total":2,"added":{"accounts":["b"],"sample_message_ids":["m2"]},"template""#))
        var ocsf = JSONWriter()
        try #require(update.first).writeOCSFLine(to: &ocsf, productVersion: "0")
        let o = String(decoding: ocsf.bytes, as: UTF8.self)
        #expect(o.contains(#""unmapped":{"sendwatch_schema":5,"incident":"sw-"#))
        #expect(
            o.contains(#""added":{"accounts":["b"],"sample_message_ids":["m2"]},"template":{"id":"private-message""#))
    }
}
