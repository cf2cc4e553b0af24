import SendWatchCore
import SendWatchFormats
import Testing

@Suite("RFC 2047 encoded words")
struct RFC2047Tests {
    @Test(
        "Decoding",
        arguments: [
            ("plain text", "plain text"),
            ("", ""),
            ("=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=", "Grüße aus München"),
            ("=?UTF-8?B?w5xiZXJzaWNodA==?=", "Übersicht"),
            ("=?utf-8?b?4oCT?=", "–"),
            ("Meeting notes =?utf-8?b?4oCT?= 29 Nov", "Meeting notes – 29 Nov"),
            // Mixed-case charset and encoding letters.
            ("=?Utf-8?Q?caf=c3=a9?=", "café"),
            ("=?ISO-8859-1?Q?Pr=E9sentation_des_r=E9sultats_=28T3=29?=", "Présentation des résultats (T3)"),
            (
                "Re: =?UTF-8?B?w5xiZXJzaWNodA==?= und =?iso-8859-1?q?K=F6ln?= plain tail",
                "Re: Übersicht und Köln plain tail"
            ),
            // Whitespace (even folding) between adjacent encoded words is dropped; elsewhere it stays.
            ("=?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?Q?_=E2=80=92?= test", "Grüße ‒ test"),
            ("=?utf-8?q?a?=  \t =?utf-8?q?b?=", "ab"),
            ("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"),
            // A `?` right after a word and before a blank is how Postfix prints a fold: removed, and the words
            // are adjacent again (the real capture's `Rücksendu?=? =?utf-8?q?ngen`).
            ("=?utf-8?q?a?=?  =?utf-8?q?b?=", "ab"),
            ("=?utf-8?q?R=C3=BCcksendu?=? =?utf-8?q?ngen?=", "Rücksendungen"),
            ("=?utf-8?q?a?=?\t=?utf-8?q?b?=", "ab"),
            // Before plain text the fold's blank stays (RFC 5322 unfolding keeps it).
            ("=?utf-8?q?Caf=C3=A9?=? Luna", "Café Luna"),
            // Elsewhere `?` and a blank may be a question mark: kept.
            ("Coming? =?utf-8?q?Caf=C3=A9?=", "Coming? Café"),
            ("keeps going and? going", "keeps going and? going"),
            // A `?` after a word that is not followed by a blank is literal.
            ("=?utf-8?q?a?=?b", "a?b"),
            ("=?windows-1252?q?=80_=93quoted=94?=", "€ “quoted”"),
            ("=?iso-8859-15?q?=A4?=", "€"),
            ("=?us-ascii?q?hello?=", "hello"),
            ("=?utf-8*en?q?lang_suffix?=", "lang suffix"),
            ("=?utf-8?b?8J+TpvCfmprwn5Ko?=", "📦🚚💨"),
            // Unpadded base64 is accepted.
            ("=?utf-8?b?w5w?=", "Ü"),
        ])
    func decodes(input: String, expected: String) {
        #expect(RFC2047.decode(Array(input.utf8)) == expected)
    }

    @Test(
        "Invalid or unsupported words stay literal",
        arguments: [
            "=?utf-8?b?!!!!?=",  // invalid base64
            "=?utf-8?b?QUJD=RA==?=",  // data after padding
            "=?utf-8?b?Q?=",  // a lone base64 character
            "=?utf-8?q?bad=ZZescape?=",  // invalid =XX
            "=?utf-8?q?cut=C?=",  // cut escape
            "=?x-no-such-charset?q?=F0=D2=C9?=",  // a charset iconv does not know
            "=?bad/name?q?abc?=",  // not a charset name: not tried
            "=?utf-8?x?unknown_encoding?=",
            "=?utf-8?q?no end",
            "=?utf-8?q?has space?=",
            "=?",  // lone start
            "a =? b ?= c",
            "=??q?empty_charset?=",
            "=?utf-8?q?ngen_und_Geb=C3=BChren_f=C3=BCr_",  // cut before ?=
            "100% =?= ?=?",
        ])
    func keepsInvalid(input: String) {
        #expect(RFC2047.decode(Array(input.utf8)) == input)
    }

    @Test(
        "A word cut by the log's length limit is decoded as far as it goes",
        arguments: [
            // The real capture's third word, cut by Postfix's 200-byte limit.
            ("=?utf-8?q?ngen_und_Geb=C3=BChren_f=C3=BCr_", "ngen und Gebühren für "),
            ("x =?utf-8?q?ab=C3", "x ab"),  // cut escape, and the unfinished "ü" it starts
            ("x =?utf-8?q?ab=", "x ab"),
            ("x =?utf-8?q?ab=C3=BC?", "x abü"),  // cut between ? and =
            ("=?utf-8?b?R3LDtsOfZW", "Größ"),  // cut base64 group
            ("=?utf-8?b?4oCT4oC", "–"),  // the next "–" is unfinished: dropped
            ("=?iso-8859-1?q?K=F6l", "Köl"),
            ("=?utf-8?q?", ""),
            // Not a word yet (charset or encoding cut): kept.
            ("x =?utf-8?q", "x =?utf-8?q"),
            ("x =?utf", "x =?utf"),
        ])
    func cutWord(input: String, expected: String) {
        #expect(RFC2047.decode(Array(input.utf8), ending: .cut) == expected)
        // Whole text: an unterminated word is not a word.
        #expect(RFC2047.decode(Array(input.utf8)) == input)
    }

    @Test("Invalid UTF-8 inside a word and raw 8-bit text become U+FFFD")
    func replacement() {
        #expect(RFC2047.decode(Array("=?utf-8?q?a=FFb?=".utf8)) == "a\u{FFFD}b")
        #expect(RFC2047.decode([0x61, 0xC3]) == "a\u{FFFD}")
        // A header cut in the middle of a UTF-8 sequence, as Postfix's 200-byte cut does.
        #expect(RFC2047.decode(Array(Array("naïve".utf8).dropLast(3))) == "na\u{FFFD}")
    }

    @Test("Hostile input: many unterminated starts, long words, deep repetition")
    func hostile() {
        let starts = String(repeating: "=?", count: 50_000)
        #expect(RFC2047.decode(Array(starts.utf8)) == starts)
        let longWord = "=?utf-8?q?" + String(repeating: "a", count: 5_000) + "?="
        #expect(RFC2047.decode(Array(longWord.utf8)) == longWord)
        let unterminated = String(repeating: "=?utf-8?q?" + String(repeating: "x", count: 900), count: 50)
        #expect(RFC2047.decode(Array(unterminated.utf8)) == unterminated)
        let many = String(repeating: "=?utf-8?q?a?= ", count: 10_000)
        #expect(RFC2047.decode(Array(many.utf8)) == String(repeating: "a", count: 10_000) + " ")
    }

    @Test(
        "Other charsets are converted with iconv",
        arguments: [
            ("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhCIBskQjdvTD4bKEI=?=", "テスト 件名"),
            ("=?iso-2022-jp?q?=1B$B%F%9%H=1B(B?=", "テスト"),
            ("=?Shift_JIS?B?g2WDWINn?=", "テスト"),
            ("=?GB2312?B?xOO6w8rAvec=?=", "你好世界"),
            ("=?gbk?b?xOO6ww==?=", "你好"),
            ("=?GB18030?B?xOO6ww==?=", "你好"),
            ("=?big5?B?p0Gmbg==?=", "你好"),
            ("=?koi8-r?q?=F0=D2=C9=D7=C5=D4?=", "Привет"),
            ("=?KOI8-U?B?8NLJ16bU?=", "Привіт"),
            ("=?euc-kr?B?vsiz58fPvLy/5A==?=", "안녕하세요"),
            ("=?EUC-JP?B?pcaluaXI?=", "テスト"),
            ("=?iso-8859-5?B?v+DY0tXi?=", "Привет"),
            ("=?ISO-8859-2?Q?Za=BF=F3=B3=E6?=", "Zażółć"),
            ("=?windows-1251?B?z/Do4uXy?=", "Привет"),
            ("=?windows-1250?Q?Za=BF=F3=B3=E6?=", "Zażółć"),
            ("=?iso-8859-7?B?w+Xp3A==?=", "Γειά"),
            // Adjacent words in two iconv charsets, and with a built-in one: the blank between them is dropped.
            ("Re: =?koi8-r?q?=F0=D2=C9?= =?Shift_JIS?B?g2WDWINn?= =?utf-8?q?_ok?=", "Re: Приテスト ok"),
            // A byte invalid in the charset becomes U+FFFD; conversion goes on after it.
            ("=?Shift_JIS?Q?=83e=FF=83X?=", "テ\u{FFFD}ス"),
            // An unfinished multibyte sequence at the end of a whole word becomes U+FFFD.
            ("=?Shift_JIS?Q?=83e=83?=", "テ\u{FFFD}"),
        ])
    func iconvCharsets(input: String, expected: String) {
        var undecoded = UndecodedWords()
        #expect(RFC2047.decode(Array(input.utf8), undecoded: &undecoded) == expected)
        #expect(undecoded.count == 0)
    }

    @Test("A word cut inside an iconv charset's multibyte sequence is decoded as far as it goes")
    func iconvCut() {
        // The last Shift_JIS character lost its second byte, then the ISO-2022-JP word its shift back.
        #expect(RFC2047.decode(Array("x =?Shift_JIS?Q?=83e=83X=83".utf8), ending: .cut) == "x テス")
        #expect(RFC2047.decode(Array("=?ISO-2022-JP?B?GyRCJUYlOSVI".utf8), ending: .cut) == "テスト")
    }

    @Test("Words of unknown charsets stay literal and are counted per charset, names bounded")
    func unknownCharsetsCounted() {
        var undecoded = UndecodedWords()
        let text = "=?x-nope?q?a?= and =?X-NOPE?b?YQ==?= and =?x-other?q?b?="
        #expect(RFC2047.decode(Array(text.utf8), undecoded: &undecoded) == text)
        #expect(undecoded.count == 3)
        #expect(undecoded.charsets == ["x-nope": 2, "x-other": 1])
        for k in 0..<40 { _ = RFC2047.decode(Array("=?x-unknown-\(k)?q?a?=".utf8), undecoded: &undecoded) }
        #expect(undecoded.count == 43)
        #expect(undecoded.charsets.count == UndecodedWords.maxCharsetNames)
    }

    @Test("More charsets than the descriptor cache holds still convert, in any order")
    func cacheEviction() {
        let words: [(String, String)] =
            (2...10).map { ("=?iso-8859-\($0)?q?abc?=", "abc") } + (0...8).map { ("=?windows-125\($0)?q?xyz?=", "xyz") }
            + [("=?koi8-r?q?=F0?=", "П"), ("=?Shift_JIS?B?g2WDWINn?=", "テスト"), ("=?big5?B?p0Gmbg==?=", "你好")]
        #expect(words.count > 16)
        for _ in 0..<3 {
            for (input, expected) in words.shuffled() { #expect(RFC2047.decode(Array(input.utf8)) == expected) }
        }
    }

    @Test("iconv conversions from many threads at once give the same text")
    func concurrentConversions() async {
        let words: [(String, String)] = [
            ("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhCIBskQjdvTD4bKEI=?=", "テスト 件名"),
            ("=?Shift_JIS?B?g2WDWINn?=", "テスト"), ("=?koi8-r?q?=F0=D2=C9=D7=C5=D4?=", "Привет"),
            ("=?GB18030?B?xOO6ww==?=", "你好"),
        ]
        let failures = await withTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var bad = 0
                    for k in 0..<2_000 {
                        let (input, expected) = words[(k + t) % words.count]
                        if RFC2047.decode(Array(input.utf8)) != expected { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test(
        "A cut final word after text an MTA decoded itself (Exim's T=)",
        arguments: [
            // The real capture's line 736.
            (
                "Gr\u{F6}\u{DF}en\u{E4}nderung \u{2013} bitte  =?utf-8?q?pr=C3=BCfen=3A_=C3=84nderungen_an_Bestellunge",
                "Gr\u{F6}\u{DF}en\u{E4}nderung \u{2013} bitte  prüfen: Änderungen an Bestellunge"
            ),
            ("x =?Shift_JIS?B?g2WDWINn", "x テスト"),
            // Left alone: complete words (the MTA kept them literal), a word not at the end, no word.
            ("x =?utf-8?q?ab?=", "x =?utf-8?q?ab?="),
            ("x =?utf-8?q?ab more", "x =?utf-8?q?ab more"),
            ("plain subject", "plain subject"),
            ("a = b =? c", "a = b =? c"),
        ])
    func cutFinalWord(input: String, expected: String) {
        var undecoded = UndecodedWords()
        #expect(RFC2047.decodeCutFinalWord(input, undecoded: &undecoded) == expected)
    }
}
