import Foundation
import SendWatchCore
import Testing

private struct Inner: Codable, Equatable {
    var name: String
    var counts: [UInt32]
    var note: String?
}

private enum Shape: Codable, Equatable {
    case dot
    case line(length: Int)
    case named(String, Double)
}

private struct Sample: Codable, Equatable {
    var int = -5
    var uint: UInt = 7
    var i8: Int8 = -8
    var u16: UInt16 = 16
    var i32: Int32 = -32
    var u64: UInt64 = .max
    var flag = true
    var double = 3.25
    var float: Float = -1.5
    var text = "Grüße \u{0}\u{1F600}"
    var empty = ""
    var maybeInt: Int? = nil
    var maybeText: String? = "x"
    var maybeBool: Bool? = false
    var nestedOptional: Int?? = .some(nil)
    var bytes: [UInt8] = [0, 1, 255]
    var words: [UInt64] = [1, .max, 0]
    var signed: [Int64] = [.min, -1, .max]
    var halves: [Int32] = []
    var doubles: [Double] = [0.5, -.infinity]
    var bools: [Bool] = [true, false, true]
    var strings: [String] = ["a", "", "ü"]
    var optionals: [String?] = [nil, "b", nil]
    var inners: [Inner] = [Inner(name: "n", counts: [1, 2], note: nil), Inner(name: "m", counts: [], note: "z")]
    var byName: [String: Int] = ["a": 1, "b": 2]
    var byKey: [UInt64: [Int32]] = [1: [1], 99: []]
    var set: Set<UInt64> = [3, 1, 2]
    var shapes: [Shape] = [.dot, .line(length: 4), .named("q", 2)]
    var tuple: [[Int]] = [[1], [], [2, 3]]
}

@Suite("State coding")
struct StateCodingTests {
    @Test("Every kind of value survives a round trip")
    func roundTrip() throws {
        let value = Sample()
        let bytes = try StateCoding.encode(value)
        let back = try StateCoding.decode(Sample.self, from: bytes)
        #expect(back == value)
        // Deterministic for values without dictionaries or sets.
        #expect(try StateCoding.encode(value.inners) == StateCoding.encode(value.inners))
    }

    @Test("Bulk integer arrays take their natural width")
    func bulkSize() throws {
        let bytes = try StateCoding.encode([UInt32](repeating: 7, count: 1000))
        #expect(bytes.count == 8 + 4000)
        let back = try StateCoding.decode([UInt32].self, from: bytes)
        #expect(back == [UInt32](repeating: 7, count: 1000))
    }

    @Test("With sections, large arrays go out of line in encoding order; decoding checks their order and sizes")
    func sections() throws {
        struct Holder: Codable, Equatable {
            var small: [UInt64] = [1, 2, 3]
            var big: [UInt64] = (0..<10_000).map { $0 &* 0x9E37_79B9 }
            var note = "between"
            var counters = [UInt32](repeating: 9, count: 1 << 15)
            var bytes = [UInt8](repeating: 1, count: (1 << 16) + 1)
        }
        let value = Holder()
        var body: [UInt8] = []
        var sections = StateSections()
        try StateCoding.encode(value, into: &body, sections: &sections)
        // The 80,000- and 131,072-byte arrays are out of line; the small one inline, the byte array too (not a
        // whole number of 4-byte words).
        #expect(sections.parts.map(\.count) == [80_000, 1 << 17])
        #expect(body.count == (8 + 24) + 16 + (8 + 7) + 16 + (8 + (1 << 16) + 1))
        #expect(try StateCoding.decode(Holder.self, from: body, sections: sections) == value)
        #expect(try StateCoding.encode(value) == StateCoding.encode(value))
        #expect(throws: DecodingError.self) { try StateCoding.decode(Holder.self, from: body) }
        #expect(throws: DecodingError.self) {
            try StateCoding.decode(Holder.self, from: body, sections: StateSections(parts: sections.parts.reversed()))
        }
        #expect(throws: DecodingError.self) {
            try StateCoding.decode(Holder.self, from: body, sections: StateSections(parts: sections.parts + [[0]]))
        }
        #expect(throws: DecodingError.self) {
            try StateCoding.decode(Holder.self, from: body, sections: StateSections(parts: [sections.parts[0]]))
        }
    }

    @Test("Every truncation of an encoding throws instead of trapping")
    func truncated() throws {
        let bytes = try StateCoding.encode(Sample())
        for n in 0..<bytes.count {
            #expect(throws: DecodingError.self) { try StateCoding.decode(Sample.self, from: Array(bytes[..<n])) }
        }
        #expect(throws: DecodingError.self) { try StateCoding.decode(Sample.self, from: bytes + [0]) }
    }

    @Test("Random byte damage never traps")
    func damaged() throws {
        let bytes = try StateCoding.encode(Sample())
        var rng = SystemRandomNumberGenerator()
        var failures = 0
        for _ in 0..<2000 {
            var copy = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                copy[Int.random(in: 0..<copy.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try StateCoding.decode(Sample.self, from: copy) } catch { failures += 1 }
        }
        #expect(failures > 0)
    }

    @Test("A huge count is rejected before anything is reserved")
    func hugeCount() {
        var bytes = [UInt8](repeating: 0xFF, count: 8)
        bytes += [1, 2, 3]
        #expect(throws: DecodingError.self) { try StateCoding.decode([UInt8].self, from: bytes) }
        #expect(throws: DecodingError.self) { try StateCoding.decode([String].self, from: bytes) }
        #expect(throws: DecodingError.self) { try StateCoding.decode([String: Int].self, from: bytes) }
    }

    @Test("Invalid UTF-8, Bool and presence bytes are rejected")
    func invalidBytes() throws {
        #expect(throws: DecodingError.self) {
            try StateCoding.decode(String.self, from: [2, 0, 0, 0, 0, 0, 0, 0, 0xC3, 0x28])
        }
        #expect(throws: DecodingError.self) { try StateCoding.decode(Bool.self, from: [2]) }
        #expect(throws: DecodingError.self) { try StateCoding.decode(Int?.self, from: [7]) }
        #expect(throws: DecodingError.self) {
            // Key 1 twice.
            try StateCoding.decode([UInt8: UInt8].self, from: [2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2])
        }
    }
}
