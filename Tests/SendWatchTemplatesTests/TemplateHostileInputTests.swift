import SendWatchTemplates
import SendWatchTesting
import Testing

@Suite struct TemplateHostileInputTests {
    static let megabyte = String(repeating: "a", count: 1 << 20)
    static let manyTokens = (0..<10_000).map { "w\($0 % 37)x" }.joined(separator: " ")
    static let manyWords = (0..<10_000).map { _ in "spam" }.joined(separator: " ")

    @Test(
        "Hostile texts never crash and stay bounded",
        arguments: [
            "", " ", "\t\n\r ", megabyte, manyTokens, manyWords,
            "مرحبا بك في Acme GmbH، لديك رسالة جديدة", "שלום \u{202E}gnp.exe\u{202C} sent you a private message",
            "Acme\u{200B}GmbH sent\u{200B}you a private message", "\u{FEFF}\u{200D}\u{2060}", "🔥🔥🔥 WIN 💰💰💰 NOW 🎁",
            "((((((((((", ")))))))))", ".,;:!?", "$ € £", "@@@ :// www.", "a\u{0}b\u{0}c",
            String(repeating: "é", count: 5000),
        ])
    func hostile(text: String) {
        var miner = TemplateMiner(configuration: .init(maxTemplates: 8, maxTokens: 32, cacheSize: 4, maxSlotBytes: 64))
        for _ in 0..<3 {
            let m = miner.mine(text)
            #expect(m.slots.allSatisfy { $0.utf8.count <= 64 })
            #expect(m.text.utf8.count <= text.utf8.count + 32 * 4)
        }
        _ = miner.mine(text + " sent you a private message")
        _ = miner.mine(text, explicitTemplate: text)
        #expect(miner._checkInvariants() == nil)
    }

    @Test(
        "Invalid UTF-8 through the bytes entry point is repaired in the output only",
        arguments: [
            [UInt8]([0xFF, 0xFE, 0x20, 0x41, 0x20, 0xC3]), [0xC3, 0x28, 0x20, 0x73, 0x65, 0x6E, 0x74], [0x80],
            [0xE2, 0x82, 0x20, 0x34, 0x39, 0x39], [0x00, 0x00, 0x20, 0x00], [],
        ])
    func invalidUTF8(bytes: [UInt8]) {
        var miner = TemplateMiner(configuration: .init(maxSlotBytes: 3))
        for _ in 0..<2 {
            let m = bytes.withUnsafeBytes { miner.mine(utf8: $0) }
            #expect(m.slots.count <= bytes.count + 1)
        }
        #expect(miner._checkInvariants() == nil)
    }

    @Test("Many distinct texts stay within every bound")
    func bounded() {
        let config = TemplateMiner.Configuration(maxTemplates: 50, maxPostingsPerToken: 8, cacheSize: 64)
        var miner = TemplateMiner(configuration: config)
        var rng = SplitMix64(seed: 9)
        let syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "vo", "ze", "pu", "ga", "he"]
        var words: [String] = []
        for i in 0..<400 {
            let a: String = syllables[i % 12]
            let b: String = syllables[(i / 12) % 12]
            let c: String = syllables[(i / 144) % 12]
            words.append(a + b + c)
        }
        for i in 0..<5_000 {
            let n = Int.random(in: 1...12, using: &rng)
            var parts: [String] = []
            for _ in 0..<n {
                let w: String = words.randomElement(using: &rng)!
                parts.append(Bool.random(using: &rng) && i % 3 == 0 ? w + "!" : w)
            }
            let text = parts.joined(separator: " ")
            _ = miner.mine(text)
            if i % 1000 == 0 { #expect(miner._checkInvariants() == nil) }
        }
        #expect(miner.templateCount <= 50)
        #expect(miner.counters.templatesEvicted > 0)
        #expect(miner._checkInvariants() == nil)
    }
}
