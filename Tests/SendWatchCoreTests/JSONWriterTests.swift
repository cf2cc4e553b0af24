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
        #expect(text == #"{"s":"a\"b\\c\n\r\t\u0000\u001f\u007fé😀\", \"injected\": \"x","n":-42,"z":null,"a":[1,"two",true],"d":0.125}"#)
    }

    @Test("Doubles: rounding, negative, non-finite", arguments: [
        (1.0, "1"), (0.5, "0.5"), (-2.25, "-2.25"), (1.0 / 3.0, "0.3333"), (Double.nan, "null"), (-0.00001, "0"),
    ])
    func doubles(value: Double, expected: String) {
        var w = JSONWriter()
        w.double(value)
        #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
    }
}
