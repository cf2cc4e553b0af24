import SendWatchTemplates
import SendWatchTesting
import Testing

/// Notification-like texts: fixed templates with varying names, numbers and scam text in the slots, repeats
/// (cache hits), explicit template ids and texts without words.
private func makeTexts(seed: UInt64, count: Int) -> [(text: String, explicit: String?)] {
    var rng = SplitMix64(seed: seed)
    let names = [
        "Acme GmbH", "Bob", "Tenant 42", "Your payment of $499 is pending. Call +1 (888) 555-0134",
        "Org \(seed)", "Jane Doe from Sales", "verify at refund-portal.example now",
    ]
    let shapes: [(String) -> String] = [
        { "\($0) sent you a private message" }, { "Welcome to \($0), please confirm your address" },
        { "\($0) invited you to the workspace" }, { "Invoice \($0) is ready for download" },
        { "Your order #\($0) has shipped" }, { "Re: \($0)" }, { "\($0) shared a document with you" },
        { "[\($0)] -- ! ?" },
    ]
    var out: [(String, String?)] = []
    var recent: [(String, String?)] = []
    for i in 0..<count {
        if !recent.isEmpty && rng.next() % 4 == 0 {
            out.append(rng.pick(recent))
            continue
        }
        let value = rng.next() % 3 == 0 ? "\(rng.next() % 100_000)" : rng.pick(names)
        let text = rng.pick(shapes)(value)
        let explicit: String? = rng.next() % 10 == 0 ? "tpl-\(rng.next() % 3)" : nil
        out.append((text, explicit))
        if i % 3 == 0 { recent.append((text, explicit)) }
        if recent.count > 40 { recent.removeFirst() }
    }
    return out
}

@Suite struct TemplateStateCodingTests {
    static let configuration = TemplateMiner.Configuration(
        maxTemplates: 12, maxTokens: 24, maxCandidates: 4, maxPostingsPerToken: 5, cacheSize: 16, maxSlotBytes: 40)

    @Test("A restored miner mines every later text exactly like the original", arguments: [1, 2, 3] as [UInt64])
    func continues(seed: UInt64) throws {
        let texts = makeTexts(seed: seed, count: 1200)
        var a = TemplateMiner(configuration: Self.configuration)
        var next = 0
        for split in [0, 150, 400, 401, 800, 1200] {
            while next < split {
                _ = a.mine(texts[next].text, explicitTemplate: texts[next].explicit)
                next += 1
            }
            var b = try TemplateMiner(configuration: Self.configuration, restoring: roundTrip(a.checkpoint()))
            #expect(b._checkInvariants() == nil)
            #expect(b.templateIDs == a.templateIDs && b.counters == a.counters)
            for (text, explicit) in texts[next..<min(texts.count, next + 300)] {
                #expect(a.mine(text, explicitTemplate: explicit) == b.mine(text, explicitTemplate: explicit))
            }
            #expect(b._checkInvariants() == nil)
            #expect(a.counters == b.counters)
            #expect(try encodedState(a.checkpoint()) == encodedState(b.checkpoint()))
            // Carry on with the restored copy: later splits restore a restored miner.
            a = b
            next = min(texts.count, next + 300)
        }
        #expect(a.counters.templatesEvicted > 0 && a.counters.cacheHits > 0 && a.counters.explicitTexts > 0)
    }

    @Test(
        "Learning a text without its match leaves the miner exactly as mining it does",
        arguments: [4, 5, 6] as [UInt64])
    func learnEqualsMine(seed: UInt64) throws {
        let texts = makeTexts(seed: seed, count: 1500)
        var mined = TemplateMiner(configuration: Self.configuration)
        var learned = TemplateMiner(configuration: Self.configuration)
        for (k, (text, explicit)) in texts.enumerated() {
            _ = mined.mine(text, explicitTemplate: explicit)
            learned.learn(text, explicitTemplate: explicit)
            if k % 100 == 99 {
                #expect(learned.counters == mined.counters)
                #expect(try encodedState(learned.checkpoint()) == encodedState(mined.checkpoint()))
            }
        }
        #expect(learned._checkInvariants() == nil)
        // Cache hits, realignments, new and evicted templates and explicit ids all went through `learn`.
        #expect(learned.counters.cacheHits > 0 && learned.counters.templatesEvicted > 0)
        #expect(learned.counters.explicitTexts > 0)
        for (text, explicit) in texts.suffix(200) {
            #expect(learned.mine(text, explicitTemplate: explicit) == mined.mine(text, explicitTemplate: explicit))
        }
        #expect(try encodedState(learned.checkpoint()) == encodedState(mined.checkpoint()))
    }

    @Test("Restoring with a configuration the state does not fit throws")
    func configurationMismatch() throws {
        var a = TemplateMiner(configuration: Self.configuration)
        for (text, explicit) in makeTexts(seed: 9, count: 300) { _ = a.mine(text, explicitTemplate: explicit) }
        let saved = try roundTrip(a.checkpoint())
        var c = Self.configuration
        c.maxTemplates = 2
        #expect(throws: TemplateCheckpointError.self) { try TemplateMiner(configuration: c, restoring: saved) }
        c = Self.configuration
        c.cacheSize = 4
        #expect(throws: TemplateCheckpointError.self) { try TemplateMiner(configuration: c, restoring: saved) }
        c = Self.configuration
        c.maxTokens = 3
        #expect(throws: TemplateCheckpointError.self) { try TemplateMiner(configuration: c, restoring: saved) }
        c = Self.configuration
        c.maxPostingsPerToken = 1
        #expect(throws: TemplateCheckpointError.self) { try TemplateMiner(configuration: c, restoring: saved) }
        // A larger configuration accepts it.
        c = Self.configuration
        c.maxTemplates = 100
        c.cacheSize = 100
        _ = try TemplateMiner(configuration: c, restoring: saved)
    }

    @Test("Damaged miner snapshots throw instead of trapping")
    func damaged() throws {
        var a = TemplateMiner(configuration: Self.configuration)
        for (text, explicit) in makeTexts(seed: 5, count: 300) { _ = a.mine(text, explicitTemplate: explicit) }
        let cp = a.checkpoint()
        _ = try decodeDamaged(cp) { _ in }
        let edits: [(inout [String: Any]) -> Void] = [
            { o in
                var lru = o["templateLRU"] as! [String: Any]
                var next = lru["next"] as! [Int]
                next[0] = 999
                lru["next"] = next
                o["templateLRU"] = lru
            },
            { o in
                var lru = o["cacheLRU"] as! [String: Any]
                lru["head"] = 77
                o["cacheLRU"] = lru
            },
            { o in o["cacheKey2"] = [UInt64(1)] },
            { o in o["cacheTemplateSlot"] = (o["cacheTemplateSlot"] as! [Int]).map { _ in 5000 } },
            { o in o["cacheRanges"] = (o["cacheRanges"] as! [Int]).reversed().map { $0 + 1 } },
            { o in o["wordPostings"] = (o["wordPostings"] as! [Int]).map { _ in -3 } },
            { o in o["wordPostingCounts"] = (o["wordPostingCounts"] as! [Int]).map { $0 + 1 } },
            // Postings under words their templates do not have (indexing and eviction rely on the opposite).
            { o in o["wordPostings"] = Array((o["wordPostings"] as! [Int]).reversed()) },
            // A template posted twice in one list.
            { o in
                let counts = o["wordPostingCounts"] as! [Int]
                var postings = o["wordPostings"] as! [Int]
                let list = counts.firstIndex { $0 >= 2 }!
                let start = counts[..<list].reduce(0, +)
                postings[start + 1] = postings[start]
                o["wordPostings"] = postings
            },
            { o in o["freeTemplateSlots"] = [0] },
            { o in
                var templates = o["templates"] as! [[String: Any]]
                let slot: [String: Any] = ["hash": 0, "text": "", "isSlot": true, "isWord": false, "spaceBefore": true]
                templates[0]["elements"] = [slot, slot]
                o["templates"] = templates
            },
            { o in
                var templates = o["templates"] as! [[String: Any]]
                templates[1]["id"] = templates[0]["id"]
                o["templates"] = templates
            },
            { o in
                var counters = o["counters"] as! [String: Any]
                counters["texts"] = -1
                o["counters"] = counters
            },
        ]
        for (i, edit) in edits.enumerated() {
            #expect(throws: DecodingError.self, "edit \(i)") { try decodeDamaged(cp, edit) }
        }
    }
}
