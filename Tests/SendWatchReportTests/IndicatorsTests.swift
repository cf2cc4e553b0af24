import SendWatchReport
import Testing

@Suite struct IndicatorsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        /// Expected (kind, matched text, normalised value), in order.
        var expected: [(Indicators.Kind, String, String)]
        var testDescription: String { text }
    }

    static let cases: [Case] = [
        Case(
            text: "You won a $1000 gift card. Call +1 (888) 555-0178",
            expected: [
                (.money, "$1000", "$1000"), (.phone, "+1 (888) 555-0178", "18885550178"),
            ]),
        Case(
            text: "Crypto bonus waiting at hxxps://coin-bonus.example/r",
            expected: [
                (.url, "hxxps://coin-bonus.example/r", "coin-bonus.example")
            ]),
        Case(
            text: "Verify at https://WWW.Secure-Verify.example/login?x=1.",
            expected: [
                (.url, "https://WWW.Secure-Verify.example/login?x=1", "secure-verify.example")
            ]),
        Case(
            text: "defanged evil[.]example[.]com and www.shop.example.",
            expected: [
                (.domain, "evil[.]example[.]com", "evil.example.com"), (.url, "www.shop.example", "shop.example"),
            ]),
        Case(
            text: "write to help@refund-portal.example today",
            expected: [
                (.domain, "refund-portal.example", "refund-portal.example")
            ]),
        Case(
            text: "Call +1 (8OO) 555~0134 now or visit refund[.]example",
            expected: [
                (.phone, "+1 (8OO) 555~0134", "18005550134"), (.domain, "refund[.]example", "refund.example"),
            ]),
        Case(
            text: "P\u{0430}yp\u{0430}l: call 888\u{200B}555\u{200B}0191 immediately, US$ 374",
            expected: [
                (.phone, "888\u{200B}555\u{200B}0191", "8885550191"), (.money, "US$ 374", "US$ 374"),
            ]),
        Case(
            text: "\u{FF11}-\u{FF18}\u{FF18}\u{FF18}-\u{FF15}\u{FF15}\u{FF15}-\u{FF10}\u{FF11}\u{FF16}\u{FF12}",
            expected: [
                (
                    .phone,
                    "\u{FF11}-\u{FF18}\u{FF18}\u{FF18}-\u{FF15}\u{FF15}\u{FF15}-\u{FF10}\u{FF11}\u{FF16}\u{FF12}",
                    "18885550162"
                )
            ]),
        Case(text: "1-800-Flowers Team, Acme.io, 24/7 Plumbing Ltd", expected: [(.domain, "Acme.io", "acme.io")]),
        Case(
            text: "Pay 250 USD or EUR 99.50 now",
            expected: [(.money, "250 USD", "250 USD"), (.money, "EUR 99.50", "EUR 99.50")]),
        Case(
            text: "call 555-123-4567 or (020) 7946 0958",
            expected: [
                (.phone, "555-123-4567", "5551234567"), (.phone, "(020) 7946 0958", "02079460958"),
            ]),
        // Not indicators: dates, short numbers, ids inside words, file names, abbreviations, version numbers.
        Case(
            text: "On 2026-11-29 order 12345678 ref abc5551234567 see invoice.pdf e.g. v1.2 PayFlow. Verify",
            expected: []),
        Case(text: "Your invoice INV-2026-0042 from Acme is ready", expected: []),
    ]

    @Test("Indicators are found, normalised, and look-alikes are not", arguments: cases)
    func scan(_ c: Case) {
        let scalars = Array(c.text.unicodeScalars)
        let found = Indicators.scan(c.text).map { m in
            (m.kind, String(String.UnicodeScalarView(scalars[m.range])), m.normalized)
        }
        #expect(found.count == c.expected.count, "\(found)")
        for (f, e) in zip(found, c.expected) {
            #expect(f.0 == e.0 && f.1 == e.1 && f.2 == e.2, "found \(f), expected \(e)")
        }
    }

    @Test("Artefacts: the same phone number written two ways is one artefact; URL host and bare domain join")
    func artefacts() {
        let a = Indicators.artefacts(in: "Call +1 (888) 555-0178 or visit hxxps://coin-bonus.example/r")
        let b = Indicators.artefacts(in: "Ring +1-888-555-0178, coin-bonus.example")
        #expect(a == b)
        #expect(a.map(\.label) == ["coin-bonus.example", "+18885550178"])
        #expect(Indicators.artefacts(in: "You won a $1000 gift card") == [])
    }
}
