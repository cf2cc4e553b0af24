import SendWatchCore
import Testing

@Suite struct LureTextTests {
    @Test(
        "Disguised lures normalise to their plain form",
        arguments: [
            ("\u{FF23}\u{FF41}\u{FF4C}\u{FF4C} \u{FF11}-\u{FF18}\u{FF18}\u{FF18}", "Call 1-888"),
            ("P\u{0430}yp\u{0430}l", "Paypal"),
            ("\u{0440}\u{0430}y\u{0440}\u{0430}l.\u{0441}om", "paypal.com"),
            ("\u{039F}\u{03BD}\u{03B5}r", "Ov\u{03B5}r"),
            ("888\u{200B}555\u{200B}0191", "8885550191"),
            ("ve\u{200D}rify\u{FE0F} now", "verify now"),
            ("soft\u{00AD}ware", "software"),
            ("call 1-8OO-555~Ol97 now", "call 1-800-555-0197 now"),
            ("+1 (8OO) 555.O134", "+1 (800) 555.0134"),
            ("refund-portal[.]example/claim", "refund-portal.example/claim"),
            ("secure-verify(dot)example", "secure-verify.example"),
            ("secure-verify [dot] example", "secure-verify.example"),
            ("help[at]refund.example", "help@refund.example"),
            ("list [.] item", "list.item"),
            ("hxxps[:]//evil.example", "hxxps://evil.example"),
            ("coin-bonus . example / r", "coin-bonus.example / r"),
            ("tax-refund\u{FF0E}example", "tax-refund.example"),
            ("\u{0661}\u{0668}\u{0668}\u{0668}", "1888"),
            ("\u{1D401}\u{1D422}\u{1D42D}", "Bit"),
            ("1\u{2013}888\u{2012}555\u{2212}0134", "1-888-555-0134"),
        ])
    func disguised(text: String, expected: String) throws {
        let normalized = try #require(LureText.normalize(text))
        #expect(normalized.text == expected)
        #expect(normalized.origins.count == normalized.text.unicodeScalars.count)
        #expect(normalized.origins == normalized.origins.sorted())
    }

    @Test(
        "Plain and ordinary text is left alone",
        arguments: [
            "Acme GmbH", "1-800-Flowers Team", "Acme.io", "24/7 Plumbing Ltd", "Route 66 Diner", "Team Blue (Berlin)",
            "Müller & Söhne KG", "株式会社テスト", "Bitcoin Caf\u{E9} Berlin", "Call +1 (888) 555-0134", "Olaf 2 Ltd",
            "Initech 2026", "Version 2.0 Team", "meet (at) noon", "list [1] item", "Done . Next", "",
        ])
    func plain(text: String) {
        #expect(LureText.normalize(text) == nil)
    }

    @Test("Each output scalar points at the input scalar it came from")
    func origins() throws {
        let n = try #require(LureText.normalize("a\u{200B}b[.]c\u{FF44}"))
        #expect(n.text == "ab.cd")
        #expect(n.origins == [0, 2, 3, 6, 7])
    }

    @Test("Text longer than the bound is cut, not rejected")
    func bound() throws {
        let long = String(repeating: "\u{FF41}", count: LureText.maxScalars + 10)
        let n = try #require(LureText.normalize(long))
        #expect(n.text.unicodeScalars.count == LureText.maxScalars)
    }
}
