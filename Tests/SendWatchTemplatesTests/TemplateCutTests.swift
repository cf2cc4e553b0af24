import Testing

@testable import SendWatchTemplates

/// Texts the log cut short (Postfix's 200-byte header limit): ``TemplateMiner/mine(cut:)``.
@Suite struct TemplateCutTests {
    /// A miner that knows `<*> mentioned you in #<*>: <*>` and `Your daily digest for <*>: <*> new comments`.
    private static func trained() -> TemplateMiner {
        var miner = TemplateMiner()
        for (name, channel) in [("Acme GmbH", "general"), ("Bob Stone", "sales"), ("Carla", "ops"), ("Dee Ltd", "hr")] {
            _ = miner.mine("\(name) mentioned you in #\(channel): see the notes")
            _ = miner.mine("Your daily digest for \(name): 12 new comments")
        }
        return miner
    }

    @Test("A cut text joins its template as a prefix, with its slot values up to the cut, and teaches nothing")
    func prefixJoinsTemplate() {
        var miner = Self.trained()
        let known = miner.mine("Acme GmbH mentioned you in #general: see the notes")
        let before = miner.templateCount
        let texts = (known.text, miner.templateText(for: known.id))

        let d = miner.mine(cut: "Your daily digest for Pay fee to bc1qh9x: 28 new comm")
        #expect(d.text == "Your daily digest for <*>: <*> new comments")
        #expect(d.slots == ["Pay fee to bc1qh9x", "28"])

        #expect(miner.templateCount == before)
        #expect(texts.0 == texts.1)
        #expect(miner.templateText(for: known.id) == known.text)
    }

    @Test("A cut inside a slot after the template's first constants is placed, though the text shares few of them")
    func cutInsideInnerSlot() {
        var miner = Self.trained()
        let known = miner.mine("Acme GmbH mentioned you in #general: see the notes")
        let before = miner.templateCount
        // 3 of the template's 7 constants against 4 more of the lure's (`Call ( ) now`): below the ordinary
        // similarity, so it went to the cut group before.
        let m = miner.mine(cut: "Call +1 (877) 268-5165 now mentioned you in #refu")
        #expect(m.id == known.id && m.text == known.text)
        #expect(m.slots == ["Call +1 (877) 268-5165 now", "#refu"])
        // The lure in the channel slot, cut there; the open slot holds what was logged of it.
        let c = miner.mine(cut: "Bob mentioned you in #refund-desk call 1-877-268-5165 to cla")
        #expect(c.id == known.id && c.slots == ["Bob", "#refund-desk call 1-877-268-5165 to cla"])
        // Not placed: a cut inside a constant with no word matched before it, a constant the text does not
        // follow (`on` for `in`), the template's words out of order.
        for text in [
            "Call +1 (877) 268-5165 now mention", "Call +1 (877) 268-5165 now mentioned you on #refu",
            "Call now: you mentioned in #refu",
        ] {
            #expect(miner.mine(cut: text).id == TemplateMiner.cutGroupID, "\(text)")
        }
        #expect(miner.templateCount == before)
        #expect(miner.templateText(for: known.id) == known.text)
    }

    @Test("A cut text that only holds slot text joins the cut-subjects group, whole, never a template of its own")
    func unplacedJoinsCutGroup() {
        var miner = Self.trained()
        let before = miner.templateCount
        for i in 0..<5 {
            let text = "Geek Squad auto-renew 799.99. Questions? +1 (877) 268-516\(i) today only shar"
            let m = miner.mine(cut: text)
            #expect(m.id == TemplateMiner.cutGroupID && m.text == TemplateMiner.cutGroupText)
            #expect(m.slots == [text])
        }
        // Words of a template out of order do not make a prefix.
        let scrambled = miner.mine(cut: "you mentioned Acme in #general: see")
        #expect(scrambled.id == TemplateMiner.cutGroupID)
        #expect(miner.templateCount == before)
        // The same texts mined whole make templates (what happened to cut subjects before).
        for i in 0..<3 {
            _ = miner.mine("Geek Squad auto-renew 799.99. Questions? +1 (877) 268-516\(i) today only shar")
        }
        #expect(miner.templateCount > before)
    }

    @Test("A cut group value is at most max_slot_bytes, cut on a character boundary")
    func cutGroupValueIsBounded() {
        var miner = TemplateMiner(configuration: .init(maxSlotBytes: 10))
        let m = miner.mine(cut: "ééééééééé and more")
        #expect(m.id == TemplateMiner.cutGroupID)
        #expect(m.slots == ["ééééé"])
        #expect(miner.mine(cut: "").slots == [""])
    }
}
