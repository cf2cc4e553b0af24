import Foundation
import SendWatchFormats
import SendWatchTesting
import Testing

/// Scans `bytes` and returns the outcome and, per path, the decoded value (strings decoded, other kinds as
/// their text prefixed by the kind) or `nil`.
private func scan(
    _ bytes: [UInt8], paths: [[String]], maxDepth: Int = 64
) -> (JSONScanner.Outcome, [String?]) {
    var scanner = JSONScanner(paths: paths, maxDepth: maxDepth)
    return bytes.withUnsafeBytes { p in
        let outcome = scanner.scan(p)
        let values = paths.indices.map { k -> String? in
            guard let v = scanner.value(ofPath: k) else { return nil }
            switch v.kind {
            case .string: return JSONScanner.decodeString(p, v)
            case .object, .array: return "\(v.kind):" + JSONScanner.decodeString(p, v)
            default: return "\(v.kind):" + JSONScanner.decodeString(p, v)
            }
        }
        return (outcome, values)
    }
}

private func scan(_ text: String, paths: [[String]] = [["a"]], maxDepth: Int = 64) -> (JSONScanner.Outcome, [String?]) {
    scan(Array(text.utf8), paths: paths, maxDepth: maxDepth)
}

@Suite struct JSONScannerTests {
    @Test(
        "Valid documents are accepted",
        arguments: [
            (#"{}"#, JSONScanner.Outcome.object),
            (#"  { }  "#, .object),
            ("\t{\"a\" :\r\n 1 }\r", .object),
            (#"{"a":[1,-0,0.5,1e5,1E+5,-1.25e-3,true,false,null,"",{},[]]}"#, .object),
            (#"{"a":{"b":{"c":[[[]]]}}}"#, .object),
            (#"{"\u00e9\ud83d\ude00":"\"\\\/\b\f\n\r\t"}"#, .object),
            (#"[]"#, .notObject),
            (#"[{"a":1}]"#, .notObject),
            (#""text""#, .notObject),
            (#"42"#, .notObject),
            (#"-0.0e-0"#, .notObject),
            (#"null"#, .notObject),
            (#"true"#, .notObject),
        ])
    func valid(text: String, expected: JSONScanner.Outcome) {
        #expect(scan(text).0 == expected)
    }

    @Test(
        "Invalid documents are rejected",
        arguments: [
            "", "   ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "[1,]", "[,1]", "{\"a\" 1}", "{a:1}",
            "{'a':1}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":1e+}",
            "{\"a\":0x10}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":tru}", "{\"a\":nul}", "{\"a\":falsey}",
            "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"tab\there\"}",
            "{\"a\":\"nl\nhere\"}", "{} x", "{}{}", "{} ,", "{\"a\":1}}", "[1]]", "{\"a\":[1}", "{\"a\":{]}",
            "\u{FEFF}{}", "{\"a\":1\u{0}}", "\u{0}", "{\"a\":\"\\",
        ])
    func invalid(text: String) {
        #expect(scan(text).0 == .invalid)
    }

    @Test("Values at nested paths and array indexes are extracted")
    func nestedPaths() {
        let doc = #"""
            {"mail":{"timestamp":"2026-03-02T09:15:04.120Z","destination":["a@x","b@x"],
             "commonHeaders":{"subject":"Hi \"you\"","to":["A <a@x>"]},"tags":{"account":["t-1","t-2"]}},
             "n":12.5,"t":true,"z":null,"o":{"k":[1,2]}}
            """#
        let paths = [
            ["mail", "timestamp"], ["mail", "commonHeaders", "subject"], ["mail", "tags", "account", "0"],
            ["mail", "tags", "account", "1"], ["mail", "tags", "account", "2"], ["n"], ["t"], ["z"], ["o"],
            ["mail", "missing"], ["n", "x"], ["mail", "destination", "01"],
        ]
        let (outcome, values) = scan(Array(doc.utf8), paths: paths)
        #expect(outcome == .object)
        #expect(values[0] == "2026-03-02T09:15:04.120Z")
        #expect(values[1] == #"Hi "you""#)
        #expect(values[2] == "t-1")
        #expect(values[3] == "t-2")
        #expect(values[4] == nil)
        #expect(values[5] == "number:12.5")
        #expect(values[6] == "true:true")
        #expect(values[7] == "null:null")
        #expect(values[8] == #"object:{"k":[1,2]}"#)
        #expect(values[9] == nil)
        #expect(values[10] == nil)
        #expect(values[11] == nil, "a leading zero is not an array index")
    }

    @Test("Array elements at a path are recorded in order, with their kinds")
    func elements() {
        let doc = Array(#"{"to":["a", 1, {"x":"no"}, ["y"], "b" ,null],"other":["c"]}"#.utf8)
        var scanner = JSONScanner(paths: [["to"], ["nope"]])
        doc.withUnsafeBytes { p in
            #expect(scanner.scan(p) == .object)
            let e = scanner.elements(ofPath: 0)
            #expect(e.map(\.kind) == [.string, .number, .object, .array, .string, .null])
            #expect(e.filter { $0.kind == .string }.map { JSONScanner.decodeString(p, $0) } == ["a", "b"])
            #expect(scanner.elements(ofPath: 1).isEmpty)
            #expect(!scanner.elementsTruncated(ofPath: 0))
        }
    }

    @Test("Element recording stops at the bound and says so")
    func elementBound() {
        let doc = Array((#"{"to":["# + (0..<10).map { "\"r\($0)\"" }.joined(separator: ",") + "]}").utf8)
        var scanner = JSONScanner(paths: [["to"]], maxElementsPerArray: 3)
        doc.withUnsafeBytes { p in
            #expect(scanner.scan(p) == .object)
            #expect(scanner.elements(ofPath: 0).map { JSONScanner.decodeString(p, $0) } == ["r0", "r1", "r2"])
            #expect(scanner.elementsTruncated(ofPath: 0))
        }
    }

    @Test(
        "Repeated keys: the last occurrence wins, including everything below it",
        arguments: [
            (#"{"a":"1","a":"2"}"#, ["a"], "2"),
            (#"{"a":"1","a":null}"#, ["a"], "null:null"),
            (#"{"m":{"a":"1"},"m":{"b":"2"}}"#, ["m", "a"], nil),
            (#"{"m":{"a":"1"},"m":{"a":"3"}}"#, ["m", "a"], "3"),
            (#"{"m":{"a":"1","a":"2"},"x":0}"#, ["m", "a"], "2"),
            (#"{"a":["x"],"a":"y"}"#, ["a", "0"], nil),
            (#"{"a":"y","a":["x"]}"#, ["a", "0"], "x"),
        ] as [(String, [String], String?)])
    func repeatedKeys(text: String, path: [String], expected: String?) {
        let (outcome, values) = scan(text, paths: [path])
        #expect(outcome == .object)
        #expect(values[0] == expected)
    }

    @Test("Repeated array key replaces the recorded elements")
    func repeatedArrayKey() {
        let doc = Array(#"{"to":["a","b"],"to":["c"]}"#.utf8)
        var scanner = JSONScanner(paths: [["to"]])
        doc.withUnsafeBytes { p in
            #expect(scanner.scan(p) == .object)
            #expect(scanner.elements(ofPath: 0).map { JSONScanner.decodeString(p, $0) } == ["c"])
        }
    }

    @Test("Many repeats of an array key next to a large recorded array stay linear")
    func repeatedArrayKeysAreLinear() {
        let big = "[" + Array(repeating: "1", count: 60_000).joined(separator: ",") + "]"
        let doc = Array(
            ("{\"s\":" + big + String(repeating: ",\"to\":[\"a\"]", count: 60_000) + ",\"to\":[\"b\"]}").utf8)
        var scanner = JSONScanner(paths: [["s"], ["to"]])
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            doc.withUnsafeBytes { p in
                #expect(scanner.scan(p) == .object)
                #expect(scanner.elements(ofPath: 0).count == 60_000)
                #expect(scanner.elements(ofPath: 1).map { JSONScanner.decodeString(p, $0) } == ["b"])
            }
        }
        // Quadratic behaviour would take minutes; linear takes milliseconds even in a debug build.
        #expect(elapsed < .seconds(10))
    }

    @Test("Keys with escapes match their unescaped path")
    func escapedKeys() {
        let (outcome, values) = scan(#"{"t\u006f":"x","a\"b":"y","\u00e9":"z"}"#, paths: [["to"], ["a\"b"], ["é"]])
        #expect(outcome == .object)
        #expect(values == ["x", "y", "z"])
    }

    @Test("The same path twice and a path that is a prefix of another")
    func overlappingPaths() {
        let (outcome, values) = scan(#"{"m":{"s":"a"}}"#, paths: [["m", "s"], ["m"], ["m", "s"], []])
        #expect(outcome == .object)
        #expect(values == ["a", #"object:{"s":"a"}"#, "a", nil])
    }

    @Test(
        "Nesting 10,000 deep is reported as too deep, without recursion",
        arguments: [
            String(repeating: "[", count: 10_000),
            String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
            "{\"a\":" + String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_001),
            String(repeating: "{\"a\":[", count: 5_000),
        ])
    func tooDeep(text: String) {
        #expect(scan(text).0 == .tooDeep)
    }

    @Test("Depth bound is exact: maxDepth containers pass, one more does not")
    func depthBoundary() {
        func nested(_ depth: Int) -> String {
            String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        }
        #expect(scan(nested(64)).0 == .object)
        #expect(scan(nested(65)).0 == .tooDeep)
        #expect(scan(nested(3), maxDepth: 3).0 == .object)
        #expect(scan(nested(4), maxDepth: 3).0 == .tooDeep)
    }

    @Test(
        "String decoding: escapes, NUL, surrogate pairs, lone surrogates",
        arguments: [
            (#"{"a":"x\u0000y"}"#, "x\u{0}y"),
            (#"{"a":"\ud83d\ude00"}"#, "😀"),
            (#"{"a":"\uD83D\uDE00!"}"#, "😀!"),
            (#"{"a":"\ud83dx"}"#, "\u{FFFD}x"),
            (#"{"a":"\ude00"}"#, "\u{FFFD}"),
            (#"{"a":"\ud83d\u0041"}"#, "\u{FFFD}A"),
            (#"{"a":"\ud83d\ud83d\ude00"}"#, "\u{FFFD}😀"),
            (#"{"a":"\u00e9\u4e2d"}"#, "é中"),
            (#"{"a":"\/\\\"\b\f\n\r\t"}"#, "/\\\"\u{8}\u{C}\n\r\t"),
            (#"{"a":"plain ascii longer than eight bytes"}"#, "plain ascii longer than eight bytes"),
            (#"{"a":"éèà raw UTF-8 ✓"}"#, "éèà raw UTF-8 ✓"),
        ])
    func stringDecoding(text: String, expected: String) {
        let (outcome, values) = scan(text)
        #expect(outcome == .object)
        #expect(values[0] == expected)
    }

    @Test(
        "Invalid UTF-8 inside a string is valid for the scanner and decodes to U+FFFD",
        arguments: [
            [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x80, 0x41],
        ] as [[UInt8]])
    func invalidUTF8(bad: [UInt8]) {
        let doc = Array(#"{"a":"x"#.utf8) + bad + Array(#"y"}"#.utf8)
        let (outcome, values) = scan(doc, paths: [["a"]])
        #expect(outcome == .object)
        let v = values[0] ?? ""
        #expect(v.hasPrefix("x") && v.hasSuffix("y") && v.contains("\u{FFFD}"))
    }

    @Test("Every raw control character inside a string is invalid, at every offset of the 8-byte word")
    func rawControlCharacters() {
        for c in UInt8(0)..<0x20 {
            for pad in 0..<9 {
                let doc =
                    Array("{\"a\":\"".utf8) + Array(repeating: UInt8(ascii: "x"), count: pad) + [c]
                    + Array("zzzzzzzzzz\"}".utf8)
                #expect(scan(doc, paths: [["a"]]).0 == .invalid, "byte \(c) after \(pad)")
            }
        }
        // DEL and bytes above are data.
        #expect(scan([UInt8]("{\"a\":\"".utf8) + [0x7F] + [UInt8]("\"}".utf8), paths: [["a"]]).0 == .object)
    }

    @Test("Quotes and backslashes are found at every offset of the 8-byte word")
    func wordOffsets() {
        for pad in 0..<17 {
            let body = String(repeating: "x", count: pad)
            #expect(scan("{\"a\":\"\(body)\"}").1[0] == body)
            #expect(scan("{\"a\":\"\(body)\\n\(body)\"}").1[0] == body + "\n" + body)
        }
    }

    @Test("A 1 MB string value is scanned and decoded")
    func megabyteString() {
        let big = String(repeating: "abcdefgh", count: 131_072)
        let (outcome, values) = scan(#"{"a":""# + big + #"","b":1}"#)
        #expect(outcome == .object)
        #expect(values[0]?.utf8.count == 1_048_576)
        let escaped = String(repeating: "ab\\\"", count: 262_144)
        let (outcome2, values2) = scan(#"{"a":""# + escaped + #""}"#)
        #expect(outcome2 == .object)
        #expect(values2[0]?.utf8.count == 786_432)
    }

    @Test(
        "Numbers keep their exact text",
        arguments: [
            ("-0", "number:-0"), ("1e999", "number:1e999"),
            ("123456789012345678901234567890", "number:123456789012345678901234567890"),
            ("0.000001", "number:0.000001"), ("-1.5E+10", "number:-1.5E+10"),
        ])
    func numberText(number: String, expected: String) {
        let (outcome, values) = scan("{\"a\":\(number)}")
        #expect(outcome == .object)
        #expect(values[0] == expected)
    }
}

// MARK: - Randomised tests against Foundation

private enum Leaf: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case container
}

private struct RandomDocument {
    var rng: SplitMix64
    /// Every path in the document with what is there.
    var leaves: [([String], Leaf)] = []

    private static let keyAlphabet: [String] = [
        "a", "b", "to", "ts", "0", "1", "é", "中", "😀", " ", "\"", "\\", "/", "\n", "\u{0}", ".",
    ]

    mutating func string(maxLength: Int) -> String {
        let length = Int.random(in: 0...maxLength, using: &rng)
        var s = ""
        for _ in 0..<length {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: s.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0..<0x20, using: &rng)))
            case 1: s += ["\"", "\\", "/", "é", "中", "😀", "\u{7F}", "\u{2028}"].randomElement(using: &rng) ?? ""
            default: s.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0x20..<0x7F, using: &rng)))
            }
        }
        return s
    }

    mutating func value(path: [String], depth: Int) -> Any {
        let choice = Int.random(in: 0..<(depth < 4 ? 8 : 5), using: &rng)
        switch choice {
        case 0, 1:
            let s = string(maxLength: 24)
            leaves.append((path, .string(s)))
            return s
        case 2:
            let n = Int.random(in: -2_000_000_000_000...2_000_000_000_000, using: &rng)
            leaves.append((path, .int(n)))
            return n
        case 3:
            let b = Bool.random(using: &rng)
            leaves.append((path, .bool(b)))
            return b
        case 4:
            leaves.append((path, .null))
            return NSNull()
        case 5, 6:
            leaves.append((path, .container))
            var dict: [String: Any] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                var key = Self.keyAlphabet.randomElement(using: &rng) ?? "k"
                if Bool.random(using: &rng) { key += Self.keyAlphabet.randomElement(using: &rng) ?? "" }
                guard dict[key] == nil else { continue }
                dict[key] = value(path: path + [key], depth: depth + 1)
            }
            return dict
        default:
            leaves.append((path, .container))
            return (0..<Int.random(in: 0...4, using: &rng)).map { value(path: path + [String($0)], depth: depth + 1) }
        }
    }

    /// A random top-level object, serialised by Foundation.
    mutating func make() -> [UInt8]? {
        var dict: [String: Any] = [:]
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            let key = string(maxLength: 4)
            guard dict[key] == nil else { continue }
            dict[key] = value(path: [key], depth: 1)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: dict) else { return nil }
        return Array(data)
    }
}

/// Whether `doc` has a digit followed by `e`/`E`, an optional sign and three or more digits.
private func hasLargeExponent(_ doc: [UInt8]) -> Bool {
    let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
    for i in doc.indices.dropFirst() where (doc[i] | 0x20) == UInt8(ascii: "e") && isDigit(doc[i - 1]) {
        var j = i + 1
        if j < doc.count && (doc[j] == UInt8(ascii: "+") || doc[j] == UInt8(ascii: "-")) { j += 1 }
        var digits = 0
        while j < doc.count && isDigit(doc[j]) {
            digits += 1
            j += 1
        }
        if digits >= 3 { return true }
    }
    return false
}

/// Whether `doc` has a `,` followed (after whitespace) by `}` or `]`, anywhere (inside strings too: this
/// only narrows which documents serve as oracle cases).
private func hasCommaBeforeClose(_ doc: [UInt8]) -> Bool {
    for i in doc.indices where doc[i] == UInt8(ascii: ",") {
        var j = i + 1
        while j < doc.count && [0x20, 0x09, 0x0A, 0x0D].contains(doc[j]) { j += 1 }
        if j < doc.count && (doc[j] == UInt8(ascii: "}") || doc[j] == UInt8(ascii: "]")) { return true }
    }
    return false
}

@Suite struct JSONScannerRandomTests {
    /// Paths through arrays use index components, which also match object keys `"0"`, `"1"`: drop paths that
    /// are ambiguous that way (an object key equal to an index of a sibling array never shares a parent, so
    /// this only guards against generator quirks).
    @Test("Random documents from JSONSerialization: accepted, and every path's value extracted", arguments: 0..<4)
    func roundTrip(seedBlock: Int) throws {
        for k in 0..<250 {
            let seed = UInt64(seedBlock * 1000 + k)
            var gen = RandomDocument(rng: SplitMix64(seed: seed))
            guard let doc = gen.make() else { continue }
            var leaves = gen.leaves
            leaves.shuffle(using: &gen.rng)
            let chosen = Array(leaves.prefix(12))
            let paths = chosen.map(\.0) + [["no such key"]]
            var scanner = JSONScanner(paths: paths)
            doc.withUnsafeBytes { p in
                #expect(scanner.scan(p) == .object, "seed \(seed): \(String(decoding: doc, as: UTF8.self))")
                for (index, (path, leaf)) in chosen.enumerated() {
                    guard let v = scanner.value(ofPath: index) else {
                        Issue.record("seed \(seed): no value at \(path)")
                        continue
                    }
                    switch leaf {
                    case .string(let s):
                        #expect(v.kind == .string && JSONScanner.decodeString(p, v) == s, "seed \(seed) \(path)")
                    case .int(let n):
                        #expect(v.kind == .number && Int(JSONScanner.decodeString(p, v)) == n, "seed \(seed) \(path)")
                    case .bool(let b):
                        #expect(v.kind == (b ? .true : .false), "seed \(seed) \(path)")
                    case .null:
                        #expect(v.kind == .null, "seed \(seed) \(path)")
                    case .container:
                        #expect(v.kind == .object || v.kind == .array, "seed \(seed) \(path)")
                    }
                }
                #expect(scanner.value(ofPath: chosen.count) == nil)
            }
        }
    }

    @Test("Random byte mutations never crash and agree with Foundation on validity", arguments: 0..<4)
    func mutations(seedBlock: Int) throws {
        var rng = SplitMix64(seed: 0xC0FFEE &+ UInt64(seedBlock))
        let interesting: [UInt8] = Array("{}[],:\"\\0123456789-+.eEtrufalsn \t\r\nu".utf8) + [0x00, 0x1F, 0x80, 0xFF]
        var disagreements: [String] = []
        for k in 0..<2_000 {
            var gen = RandomDocument(rng: SplitMix64(seed: UInt64(seedBlock * 1000 + k) &+ 77))
            guard var doc = gen.make() else { continue }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                guard !doc.isEmpty else { break }
                let at = Int.random(in: 0..<doc.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: doc[at] = interesting.randomElement(using: &rng) ?? 0
                case 1: doc.insert(interesting.randomElement(using: &rng) ?? 0, at: at)
                case 2: doc.remove(at: at)
                default: doc.removeSubrange(at..<doc.count)
                }
            }
            var scanner = JSONScanner(paths: [["a"], ["to"], ["0"], ["a", "0"]])
            let outcome = doc.withUnsafeBytes { p -> JSONScanner.Outcome in
                let o = scanner.scan(p)
                // Decoding whatever was recorded must not crash either.
                for path in 0..<4 {
                    if let v = scanner.value(ofPath: path) { _ = JSONScanner.decodeString(p, v) }
                    for e in scanner.elements(ofPath: path) { _ = JSONScanner.decodeString(p, e) }
                }
                return o
            }
            // Foundation is the oracle only where both are defined the same way: valid UTF-8 (the scanner
            // defers UTF-8 repair to decoding) and no \u escapes (Foundation rejects lone surrogates).
            // Also skip numbers whose exponent makes a Double overflow (Foundation rejects those as values,
            // though the grammar allows them), NUL bytes (Foundation stops reading at one) and a comma before a
            // closing bracket (Foundation accepts `{"a":1,}`, RFC 8259 does not).
            guard String(validating: doc, as: UTF8.self) != nil, !doc.contains(UInt8(ascii: "u")),
                !doc.contains(0), !hasLargeExponent(doc), !hasCommaBeforeClose(doc)
            else { continue }
            let foundationValid =
                (try? JSONSerialization.jsonObject(with: Data(doc), options: [.fragmentsAllowed])) != nil
            let scannerValid = outcome == .object || outcome == .notObject
            if foundationValid != scannerValid {
                disagreements.append(
                    "\(outcome) vs Foundation \(foundationValid): \(String(decoding: doc, as: UTF8.self).debugDescription)"
                )
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
