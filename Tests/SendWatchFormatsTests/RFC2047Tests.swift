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
            // A `?` (how Postfix prints a fold) between words is literal text and breaks the adjacency.
            ("=?utf-8?q?a?=?  =?utf-8?q?b?=", "a?  b"),
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
            "=?koi8-r?q?=F0=D2=C9?=",  // unknown charset
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
}
