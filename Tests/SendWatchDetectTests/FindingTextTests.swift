import Foundation
import SendWatchCore
import Testing

@testable import SendWatchDetect

/// Findings whose evidence and reasons are rendered only when read (``FindingText``): `young_account_burst`'s,
/// made at every event of a firing account and nearly always held and replaced unread.
@Suite struct FindingTextTests {
    /// A text that renders its figures, as a rule's would.
    final class Figures: FindingText {
        let count: Int
        let name: String
        init(count: Int, name: String) {
            self.count = count
            self.name = name
        }
        func evidence() -> [(String, JSONValue)] { [("count", .int(count)), ("name", .string(name))] }
        func reasons() -> [String] { ["\(name) counted \(count)."] }
    }

    static func finding(_ text: Figures) -> Finding {
        Finding(
            kind: RuleName("test_rule"), key: "k", severity: .medium, score: 1, firstEventTime: EventTime(seconds: 1),
            accounts: ["a"], accountsTotal: 1, volume: text.count, template: nil, text: text)
    }

    @Test("A finding with a text reads, codes and writes as the finding built with the rendered text")
    func rendered() throws {
        let text = Figures(count: 7, name: "seven")
        let lazy = Self.finding(text)
        let eager = Finding(
            kind: RuleName("test_rule"), key: "k", severity: .medium, score: 1, firstEventTime: EventTime(seconds: 1),
            accounts: ["a"], accountsTotal: 1, volume: 7, template: nil, evidence: text.evidence(),
            reasons: text.reasons())
        #expect(lazy.evidence.map(\.0) == ["count", "name"])
        #expect(lazy.evidence.map(\.1) == [.int(7), .string("seven")])
        #expect(lazy.reasons == ["seven counted 7."])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(lazy) == encoder.encode(eager))
        var lifecycle = AlertLifecycle()
        var other = AlertLifecycle()
        let a = lifecycle.take(lazy, at: EventTime(seconds: 2))
        let b = other.take(eager, at: EventTime(seconds: 2))
        #expect(a == b)
        #expect(a.first?.reasons == ["seven counted 7."])
    }

    @Test("Setting the evidence or the reasons of a finding with a text keeps the other as rendered")
    func setters() {
        var f = Self.finding(Figures(count: 3, name: "three"))
        f.reasons.append("More.")
        #expect(f.reasons == ["three counted 3.", "More."])
        #expect(f.evidence.map(\.1) == [.int(3), .string("three")])
        var g = Self.finding(Figures(count: 4, name: "four"))
        g.evidence.append(("extra", .bool(true)))
        #expect(g.evidence.map(\.0) == ["count", "name", "extra"])
        #expect(g.reasons == ["four counted 4."])
    }

    static func entry(_ alert: Alert?, _ key: String) -> JSONValue? { alert?.evidence.first { $0.0 == key }?.1 }

    @Test(
        "A held young_account_burst finding's record says what the finding said: evictions after it change nothing"
    )
    func heldBurst() throws {
        var config = DetectionConfiguration()
        config.memoryBudgetBytes = 1 << 20
        var s = Scenario(config)
        s.warmUp(accounts: ["old"])
        for i in 0..<150 {
            s.send("signup", to: "v\(i)@m\(i % 5).example", subject: "Hello \(i % 3)", at: 4000 + Int64(i))
        }
        let serialAtFinding = s.serial
        let created = s.alerts.filter { $0.kind == "young_account_burst" }
        #expect(created.map(\.action) == [.create])
        #expect(Self.entry(created.first, "recipients_short_window") == .int(100))
        // The last 50 findings were held; the flood of other young accounts evicts entries (the account's own among
        // them, perhaps, as it sends no more) while the 150th is held, until the update interval writes it.
        let before = s.engine.counters.evictions
        for i in 0..<20_000 {
            s.send("flood-\(i)", to: "r\(i)@d\(i % 997).example", subject: nil, at: 4150 + Int64(i / 20))
        }
        #expect(s.engine.counters.evictions > before)
        let updates = s.alerts.filter { $0.kind == "young_account_burst" && $0.action == .update }
        try #require(updates.count == 1)
        let held = updates[0]
        // Written by the update interval after the create (at the 100th event, 4099 s).
        #expect(held.eventTime >= EventTime(seconds: s.t0 + 4099 + 600))
        #expect(Self.entry(held, "recipients_short_window") == .int(150))
        #expect(Self.entry(held, "recipients_long_window") == .int(150))
        #expect(Self.entry(held, "recipient_domains") == .int(5))
        #expect(Self.entry(held, "sample_subject") == .string("Hello 2"))
        #expect(
            Self.entry(held, "sample_message_ids")
                == .array((2...6).map { .string("m\($0)@platform.example") }))
        #expect(
            Self.entry(held, "state")
                == .object([("evicted_keys", .int(Int(before))), ("approximate", .bool(false))]))
        #expect(held.reasons.first?.contains("sent to 150 recipients in 10m (threshold 100) and 150 in 1h") == true)
        #expect(serialAtFinding == 151)
    }
}
