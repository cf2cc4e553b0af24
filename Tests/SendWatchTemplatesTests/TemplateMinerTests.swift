import SendWatchCore
import SendWatchTemplates
import SendWatchTesting
import Testing

/// Mines every text once (learning), then once more, and returns the second pass (slots against the final
/// templates).
private func mineTwice(_ texts: [String], configuration: TemplateMiner.Configuration = .init())
    -> (TemplateMiner, [TemplateMatch])
{
    var miner = TemplateMiner(configuration: configuration)
    for t in texts { _ = miner.mine(t) }
    let second = texts.map { miner.mine($0) }
    return (miner, second)
}

@Suite struct TemplateMinerTests {
    static let legit = "Acme GmbH sent you a private message"
    static let scam = "Your payment of $499 is pending. Call +1 (888) 555-0134 sent you a private message"

    @Test(
        "Legitimate and scam tenant names share one template, in either order",
        arguments: [
            [legit, scam], [scam, legit],
        ])
    func examplePair(order: [String]) throws {
        var miner = TemplateMiner()
        let first = miner.mine(order[0])
        let second = miner.mine(order[1])
        #expect(first.isNewTemplate && !second.isNewTemplate)
        #expect(first.id == second.id)
        #expect(second.text == "<*> sent you a private message")
        let again = order.map { miner.mine($0) }
        #expect(again.allSatisfy { $0.id == first.id })
        let slots = Dictionary(uniqueKeysWithValues: zip(order, again.map(\.slots)))
        #expect(slots[Self.legit] == ["Acme GmbH"])
        #expect(slots[Self.scam] == ["Your payment of $499 is pending. Call +1 (888) 555-0134"])
        #expect(miner._checkInvariants() == nil)
    }

    struct SlotCase: Sendable, CustomTestStringConvertible {
        var texts: [String]
        var template: String
        var slots: [[String]]
        var testDescription: String { template }
    }

    @Test(
        "Slots at the start, middle and end, one or several, of any length",
        arguments: [
            SlotCase(
                texts: [
                    "Welcome to Acme GmbH, Bob!", "Welcome to Initech, Alice!",
                    "Welcome to Umbrella Corp, Dr Jane Doe!",
                ],
                template: "Welcome to <*>, <*>!",
                slots: [["Acme GmbH", "Bob"], ["Initech", "Alice"], ["Umbrella Corp", "Dr Jane Doe"]]),
            SlotCase(
                texts: [
                    "Alice Smith invited you to join Acme Corp", "Bob invited you to join Initech",
                    "WIN A FREE IPHONE at promo.example invited you to join Cheap Pills Online",
                ],
                template: "<*> invited you to join <*>",
                slots: [
                    ["Alice Smith", "Acme Corp"], ["Bob", "Initech"],
                    ["WIN A FREE IPHONE at promo.example", "Cheap Pills Online"],
                ]),
            SlotCase(
                texts: ["Password reset for alice", "Password reset for bob.smith", "Password reset for Carol Jones"],
                template: "Password reset for <*>",
                slots: [["alice"], ["bob.smith"], ["Carol Jones"]]),
            SlotCase(
                texts: ["Password reset for alice@example.com", "Password reset for bob@example.org"],
                template: "Password reset for <*>",
                slots: [["alice@example.com"], ["bob@example.org"]]),
            SlotCase(
                texts: ["Invoice 123 is ready", "Invoice 456 is ready", "Invoice INV-2026-0042 is ready"],
                template: "Invoice <*> is ready",
                slots: [["123"], ["456"], ["INV-2026-0042"]]),
            SlotCase(
                texts: ["Your payment of $499 is pending", "Your payment of 499,00 € is pending"],
                template: "Your payment of <*> is pending",
                slots: [["$499"], ["499,00 €"]]),
            SlotCase(
                texts: ["Meeting on 2026-11-29 at 10:30 with Bob", "Meeting on 2026-12-01 at 9:00 with Alice"],
                template: "Meeting on <*> at <*> with <*>",
                slots: [["2026-11-29", "10:30", "Bob"], ["2026-12-01", "9:00", "Alice"]]),
            SlotCase(
                texts: ["Your code is 123456 (valid 10 minutes)", "Your code is 998877 (valid 5 minutes)"],
                template: "Your code is <*> (valid <*> minutes)",
                slots: [["123456", "10"], ["998877", "5"]]),
        ])
    func slotPositions(c: SlotCase) {
        let (miner, second) = mineTwice(c.texts)
        #expect(Set(second.map(\.id)).count == 1)
        #expect(second.first?.text == c.template)
        #expect(second.map(\.slots) == c.slots)
        #expect(miner._checkInvariants() == nil)
    }

    @Test("A swarm: legitimate tenants, then scam tenants of the same template, all one id")
    func swarm() {
        var miner = TemplateMiner()
        let tenants = [
            "Acme GmbH", "Initech", "Globex Corporation", "Umbrella", "Stark Industries Ltd", "Wayne Enterprises",
            "Your payment of $499 is pending. Call +1 (888) 555-0134",
            "URGENT your account will be closed, verify at http://acc-verify.example/login",
            "Claim your 1000 USD gift card now: call 0800 123 456",
            "Bitcoin doubler!!! Send 0.1 BTC to bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
            "Support team", "Refund of 299,00 € approved – reply with your IBAN",
        ]
        let matches = tenants.map { miner.mine("\($0) sent you a private message") }
        #expect(Set(matches.map(\.id)).count == 1)
        #expect(matches.last?.text == "<*> sent you a private message")
        for (t, m) in zip(tenants, matches).dropFirst() { #expect(m.slots == [t]) }
        #expect(miner.templateCount == 1)
    }

    @Test("Different templates stay apart")
    func differentTemplates() {
        let texts = [
            "Your invoice 1001 is ready", "Your password was reset", "Meeting notes 2026-11-29",
            "Re: Quarterly report draft", "Your invoice 1002 is ready", "Meeting notes 2026-11-30",
            "Your password was reset", "Re: Quarterly report draft", "Your account was locked",
            "Acme GmbH sent you a private message",
        ]
        let (miner, second) = mineTwice(texts)
        let ids = second.map(\.id)
        #expect(ids[0] == ids[4] && ids[2] == ids[5] && ids[1] == ids[6] && ids[3] == ids[7])
        #expect(Set([ids[0], ids[1], ids[2], ids[3], ids[8], ids[9]]).count == 6)
        #expect(second[0].text == "Your invoice <*> is ready")
        #expect(second[1].text == "Your password was reset")
        #expect(second[2].text == "Meeting notes <*>")
        #expect(second[3].text == "Re: Quarterly report draft")
        #expect(miner.templateCount == 6)
    }

    @Test(
        "Near templates at the similarity edge: 3 of 5 shared constants join at 0.6, not at 0.65",
        arguments: [
            (0.6, true), (0.65, false),
        ])
    func similarityEdge(similarity: Double, joined: Bool) {
        var miner = TemplateMiner(configuration: .init(similarity: similarity))
        let a = miner.mine("Acme GmbH sent you a private message")
        let b = miner.mine("Bob sent you a file")
        #expect((a.id == b.id) == joined)
        #expect(
            miner.templateText(for: a.id) == (joined ? "<*> sent you a <*>" : "Acme GmbH sent you a private message"))
    }

    @Test("Two fresh miners fed the same sequence give the same ids and texts")
    func stableIDs() {
        let texts = (0..<200).map { i in
            [
                "Alice\(i % 7) sent you a private message", "Your invoice \(i) is ready",
                "Welcome to Org\(i % 5), Bob!",
                "Team \(["Red", "Blue", "Green"][i % 3]) invited you to join Project \(["X", "Y"][i % 2])",
            ][i % 4]
        }
        var a = TemplateMiner()
        var b = TemplateMiner()
        let ma = texts.map { a.mine($0) }
        let mb = texts.map { b.mine($0) }
        #expect(ma == mb)
        #expect(a.templateIDs == b.templateIDs)
        #expect(a.counters == b.counters)
    }

    @Test(
        "Grouping does not depend on order for templates whose instances share most constants",
        arguments: [
            UInt64(1), 2, 3, 4, 5,
        ])
    func orderIndependence(seed: UInt64) {
        let texts = [
            "Acme GmbH sent you a private message", TemplateMinerTests.scam, "Bob sent you a private message",
            "Your invoice 77 is ready", "Your invoice 78 is ready", "Alice Smith invited you to join Acme Corp",
            "Bob invited you to join Initech", "Carol invited you to join Umbrella Research Labs",
            "Password reset for alice", "Password reset for Bob Jones", "Your password was reset",
        ]
        var rng = SplitMix64(seed: seed)
        var shuffled = texts
        shuffled.shuffle(using: &rng)
        let (miner, second) = mineTwice(shuffled)
        var groupOf: [String: String] = [:]
        for (t, m) in zip(shuffled, second) { groupOf[t] = m.text }
        #expect(groupOf[texts[0]] == "<*> sent you a private message")
        #expect(groupOf[texts[1]] == "<*> sent you a private message")
        #expect(groupOf[texts[2]] == "<*> sent you a private message")
        #expect(groupOf[texts[3]] == "Your invoice <*> is ready")
        #expect(groupOf[texts[5]] == "<*> invited you to join <*>")
        #expect(groupOf[texts[7]] == "<*> invited you to join <*>")
        #expect(groupOf[texts[8]] == "Password reset for <*>")
        #expect(groupOf[texts[10]] == "Your password was reset")
        #expect(miner.templateCount == 5)
    }

    @Test("At maxTemplates the least recently matched template is evicted and its id is not reused")
    func eviction() {
        var miner = TemplateMiner(configuration: .init(maxTemplates: 2))
        let a = miner.mine("Your invoice 1 is ready")
        let b = miner.mine("Welcome aboard, friend")
        _ = miner.mine("Your invoice 2 is ready")  // a is now more recent than b
        let c = miner.mine("Quarterly report draft attached")
        #expect(miner.templateCount == 2)
        #expect(miner.counters.templatesEvicted == 1)
        #expect(miner.templateText(for: b.id) == nil)
        #expect(miner.templateText(for: a.id) == "Your invoice <*> is ready")
        let b2 = miner.mine("Welcome aboard, friend")
        #expect(b2.isNewTemplate)
        #expect(b2.id != b.id && b2.id != a.id && b2.id != c.id)
        #expect(miner.counters.templatesEvicted == 2)
        #expect(miner._checkInvariants() == nil)
    }

    @Test("Cache hit for a repeated text; a cached entry is re-aligned after its template generalises")
    func cacheInvalidation() {
        var miner = TemplateMiner()
        let first = miner.mine("Report for Acme is ready")
        #expect(first.slots == [])
        let hit = miner.mine("Report for Acme is ready")
        #expect(hit.id == first.id && hit.text == first.text && hit.slots == first.slots && !hit.isNewTemplate)
        #expect(miner.counters.cacheHits == 1)
        let other = miner.mine("Report for Initech Holdings is ready")
        #expect(other.text == "Report for <*> is ready")
        #expect(other.slots == ["Initech Holdings"])
        let again = miner.mine("Report for Acme is ready")
        #expect(again.id == first.id)
        #expect(again.text == "Report for <*> is ready")
        #expect(again.slots == ["Acme"])
        #expect(miner.counters.cacheRealigned == 1)
        let hitAgain = miner.mine("Report for Acme is ready")
        #expect(hitAgain == again)
        #expect(miner.counters.cacheHits == 2)
        #expect(miner._checkInvariants() == nil)
    }

    @Test("Explicit template ids group by the id and still learn the slot structure")
    func explicitTemplates() {
        var miner = TemplateMiner()
        let a = miner.mine("Hi Bob, your report is ready", explicitTemplate: "report_ready_v2")
        let b = miner.mine("Hi Alice Smith, your report is ready", explicitTemplate: "report_ready_v2")
        let c = miner.mine("Totally different text", explicitTemplate: "report_ready_v2")
        #expect(a.id == TemplateID(explicit: "report_ready_v2"))
        #expect(b.id == a.id && c.id == a.id)
        #expect(a.isNewTemplate && !b.isNewTemplate)
        #expect(b.text == "Hi <*>, your report is ready")
        #expect(b.slots == ["Alice Smith"])
        // Mined texts never join an explicit template.
        let mined = miner.mine("Hi Carol, your report is ready")
        #expect(mined.id != a.id && mined.isNewTemplate)
        // The same text with and without an explicit id are different cache entries.
        let b2 = miner.mine("Hi Alice Smith, your report is ready", explicitTemplate: "report_ready_v2")
        #expect(b2.id == a.id)
        #expect(TemplateID(explicit: "report_ready_v2").description.count == 16)
        #expect(miner.counters.explicitTexts == 4)
        #expect(miner._checkInvariants() == nil)
    }

    @Test(
        "Template ids print as 16 hex digits",
        arguments: [
            (UInt64(0), "0000000000000000"), (UInt64(0xDEAD_BEEF), "00000000deadbeef"),
            (UInt64.max, "ffffffffffffffff"),
        ])
    func idDescription(raw: UInt64, text: String) {
        #expect(TemplateID(rawValue: raw).description == text)
    }

    @Test("Texts longer than maxTokens keep the tail in the last slot")
    func truncation() {
        var miner = TemplateMiner(configuration: .init(maxTokens: 6))
        let m = miner.mine("Notice from admin about the server maintenance window tonight")
        #expect(m.text == "Notice from admin about the <*>")
        #expect(m.slots == ["server maintenance window tonight"])
        #expect(miner.counters.truncatedTexts == 1)
    }

    @Test(
        "Slot values are cut at maxSlotBytes on a UTF-8 character boundary",
        arguments: [
            ("Hello éééé there", 5, "éé"), ("Hello abcdefgh there", 5, "abcde"), ("Hello 😀😀 there", 6, "😀"),
            ("Hello ab there", 5, "ab"),
        ])
    func slotCap(text: String, cap: Int, expected: String) {
        var miner = TemplateMiner(configuration: .init(maxSlotBytes: cap))
        _ = miner.mine("Hello friend there")
        let m = miner.mine(text)
        #expect(m.text == "Hello <*> there")
        #expect(m.slots == [expected])
        #expect(miner.counters.truncatedSlots == (expected.utf8.count < text.utf8.count - 12 ? 1 : 0))
    }

    @Test("Configuration problems are reported, and the miner clamps")
    func configuration() {
        let bad = TemplateMiner.Configuration(
            maxTemplates: 0, similarity: 1.5, maxTokens: 1, maxCandidates: 0, maxPostingsPerToken: 0,
            cacheSize: -1, maxSlotBytes: 0)
        #expect(bad.problems().count == 7)
        #expect(TemplateMiner.Configuration().problems().isEmpty)
        var miner = TemplateMiner(configuration: bad)
        _ = miner.mine("Hello there 42")
        #expect(miner.configuration.maxTemplates == 1)
        #expect(miner._checkInvariants() == nil)
    }
}
