import SendWatchCore
import SendWatchDetect
import Testing

@Suite struct SlotContentTests {
    @Test(
        "Scam slot values carry indicators",
        arguments: [
            (
                "Your payment of $499 is pending. Call +1 (888) 555-0134",
                ["phone", "money", "urgency_words", "long_text"]
            ),
            (
                "Claim your refund at hxxps://refund-portal.example/claim?id=42",
                ["url", "domain", "urgency_words", "long_text"]
            ),
            ("refund-portal.example", ["domain"]),
            ("Contact billing-desk@secure-pay.example now", ["email"]),
            ("Send 0.1 BTC to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", ["crypto_wallet", "money", "long_text"]),
            ("0x52908400098527886E0F7030069857D2E4169EE7", ["crypto_wallet"]),
            ("Account suspended, verify at www.example-login.test", ["url", "domain", "urgency_words", "long_text"]),
            ("499,00 € due", ["money"]),
            ("USD500 bonus", ["money"]),
            ("EUR 20 voucher, call 0800 123 4567", ["phone", "money", "urgency_words", "long_text"]),
            ("Verify: 0800-555-0199", ["phone", "urgency_words"]),
        ])
    func scam(text: String, expected: [String]) {
        #expect(SlotContent.indicators(of: text).names == expected)
        #expect(SlotContent.score(SlotContent.indicators(of: text)) >= 1.5)
    }

    @Test(
        "Ordinary names carry none",
        arguments: [
            "Acme GmbH", "Stark Industries Inc.", "Globex", "Dr. Erin O'Neil", "Müller & Söhne KG", "株式会社テスト",
            "Initech 2026", "Team Blue (Berlin)", "J.R.R. Tolkien Society", "Umbrella Ltd.", "Version 2.0 Team",
            "St. Mary's School", "",
        ])
    func names(text: String) {
        #expect(SlotContent.indicators(of: text).names == [])
    }
}

@Suite struct ConversationTests {
    @Test(
        "Reply and forward markers are conversation; other colons are not",
        arguments: [
            ("Re: hello", true), ("RE: hello", true), ("Fwd: x", true), ("AW: Termin", true), ("Re[2]: x", true),
            ("re(3): x", true), ("SV: x", true), ("Status: done", false), ("Welcome to Acme", false),
            ("Re hello", false),
            ("", false), ("Réf: x", false), ("Invoice: 42", false), ("Re[x]: y", false),
        ])
    func conversation(subject: String, expected: Bool) {
        #expect(DetectionEngine.isConversation(subject) == expected)
    }
}

@Suite struct HiddenLureTests {
    /// Disguised lures: each reaches the default `min_score` (2), and the listed indicators are found only
    /// thanks to normalisation: the byte scan of the text as written (without `LureText`) misses them.
    @Test(
        "Disguised lures score like their plain forms",
        arguments: [
            ("Your payment of US$ 499 is pending. Call +1 (8OO) 555~0134 now", ["phone"]),
            (
                "\u{FF23}\u{FF41}\u{FF4C}\u{FF4C} \u{FF11}-\u{FF18}\u{FF18}\u{FF18}-\u{FF15}\u{FF15}\u{FF15}-"
                    + "\u{FF10}\u{FF11}\u{FF16}\u{FF12} to claim", ["phone"]
            ),
            ("Refund approved: visit refund-portal[.]example/claim", ["domain"]),
            ("Account suspended, verify at secure-verify(dot)example", ["domain"]),
            ("You won 1000 U.S. dollars, call 888\u{200B}555\u{200B}0191", ["phone"]),
            ("Crypto bonus waiting at coin-bonus . example / r", ["domain"]),
            ("Tax refund approved at tax-refund\u{FF0E}example", ["domain"]),
            ("Help: 1~888~555~0150", ["phone"]),
        ])
    func disguised(text: String, expected: [String]) {
        let found = SlotContent.indicators(of: text)
        for name in expected { #expect(found.names.contains(name), "\(text): \(found.names)") }
        #expect(SlotContent.score(found) >= 2)
        let asWritten = text.withUTF8Bytes { SlotContent.indicators(bytes: UnsafeRawBufferPointer($0)) }
        for name in expected { #expect(!asWritten.names.contains(name), "\(text): \(name) found as written") }
    }

    @Test(
        "A phone number followed by more words is a phone number; one glued to letters is not",
        arguments: [
            ("Paypal billing: call 1-866-555-0197 immediately", true),
            ("call 1.888.555.0145 now please", true),
            ("ref 1866555019immediately", false),
            ("order 1-866-555-0197x", false),
        ])
    func phoneThenWords(text: String, phone: Bool) {
        #expect(SlotContent.indicators(of: text).contains(.phone) == phone)
    }

    @Test(
        "A date and a time in a slot is not a phone number",
        arguments: ["Webinar 2026-11-29 10:00", "2026-11-29 10:00 CET", "Meet on 29.11.2026 10:30", "2026-11-29 10:00"])
    func dateIsNotPhone(text: String) {
        #expect(!SlotContent.indicators(of: text).contains(.phone), "\(text)")
    }

    @Test(
        "Money in codes and words", arguments: ["US$ 374", "374 USD", "374USD", "374 U.S. dollars", "dollars 374"])
    func money(text: String) {
        #expect(SlotContent.indicators(of: text).contains(.money))
    }

    @Test(
        "Brand names that look like lures stay below the default min_score",
        arguments: [
            "1-800-Flowers Team", "Acme.io", "24/7 Plumbing Ltd", "Route 66 Diner", "Studio 54 Events",
            "Bitcoin Caf\u{E9} Berlin",
        ])
    func brands(text: String) {
        #expect(SlotContent.score(SlotContent.indicators(of: text)) < 2, "\(SlotContent.indicators(of: text).names)")
    }
}
