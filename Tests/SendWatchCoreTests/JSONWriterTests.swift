import Foundation
import SendWatchCore
import Testing

@Suite struct JSONWriterTests {
    @Test("Hostile strings stay data: quotes, backslashes, control characters, DEL")
    func escaping() throws {
        var w = JSONWriter()
        let hostile = "a\"b\\c\n\r\t\u{0}\u{1F}\u{7F}é😀\", \"injected\": \"x"
        w.beginObject()
        w.key("s"); w.string(hostile)
        w.key("n"); w.int(-42)
        w.key("z"); w.null()
        w.key("a"); w.beginArray(); w.int(1); w.string("two"); w.bool(true); w.endArray()
        w.key("d"); w.double(0.125)
        w.endObject()
        let text = String(decoding: w.bytes, as: UTF8.self)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        #expect(obj["s"] as? String == hostile)
        #expect(obj.count == 5)
        #expect(
            text
                == #"{"s":"a\"b\\c\n\r\t\u0000\u001f\u007fé😀\", \"injected\": \"x","n":-42,"z":null,"a":[1,"two",true],"d":0.125}"#
        )
    }

    @Test(
        "Non-ASCII line breaks (NEL and the other C1 controls, U+2028, U+2029) are escaped, so a record stays one line",
        arguments: [
            ("a\u{85}b", #""a\u0085b""#), ("\u{80}\u{9F}", #""\u0080\u009f""#),
            ("x\u{2028}y\u{2029}z", #""x\u2028y\u2029z""#),
            ("\u{A0}é\u{2027}\u{202A}—", "\"\u{A0}é\u{2027}\u{202A}—\""),
        ])
    func lineBreaksEscaped(value: String, expected: String) throws {
        var w = JSONWriter()
        w.string(value)
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
        let back = try JSONSerialization.jsonObject(with: Data(w.bytes), options: .fragmentsAllowed) as? String
        #expect(back == value)
        // Split the way Python's str.splitlines and JavaScript's line terminators do: one piece.
        let breaks: Set<Character> = ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"]
        #expect(!String(decoding: w.bytes, as: UTF8.self).contains { breaks.contains($0) })
    }

    @Test(
        "Doubles: rounding, negative, non-finite",
        arguments: [
            (1.0, "1"), (0.5, "0.5"), (-2.25, "-2.25"), (1.0 / 3.0, "0.3333"), (Double.nan, "null"), (-0.00001, "0"),
        ])
    func doubles(value: Double, expected: String) {
        var w = JSONWriter()
        w.double(value)
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
    }
}
