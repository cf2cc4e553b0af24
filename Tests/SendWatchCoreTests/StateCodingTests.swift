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
