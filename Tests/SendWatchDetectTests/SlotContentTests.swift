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
