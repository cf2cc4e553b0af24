import SendWatchCore
import Testing

@Suite struct TerminalTextTests {
    @Test(
        "Control characters, separators and bidi overrides become visible escapes; other text is kept",
        arguments: [
            ("t-1\u{1B}[2J\u{1B}[31mOK", "t-1\\x1b[2J\\x1b[31mOK"),
            ("a\rb\tc\u{7F}d\u{85}e", "a\\x0db\\x09c\\x7fd\\x85e"),
            ("line\u{2028}split\u{2029}", "line\\u{2028}split\\u{2029}"),
            ("evil\u{202E}gpj.exe", "evil\\u{202e}gpj.exe"),
            ("Zoë – 東京 \\ ok", "Zoë – 東京 \\ ok"),
            ("two\nlines", "two\\x0alines"),
        ])
    func escapes(input: String, expected: String) {
        #expect(TerminalText.escaped(input) == expected)
    }

    @Test("Newlines are kept on request (multi-line reports), other controls are still escaped")
    func keepingNewlines() {
        #expect(TerminalText.escaped("a\n\u{1B}b\n", keepingNewlines: true) == "a\n\\x1bb\n")
    }
}
