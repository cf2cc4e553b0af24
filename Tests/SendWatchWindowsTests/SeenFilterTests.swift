import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

@testable import SendWatchWindows

@Suite("SeenFilter")
struct SeenFilterTests {
    @Test("No false negatives within a generation; false positives under 1.2 % with one full generation")
    func oneGeneration() {
        var filter = SeenFilter(capacity: 100_000)
        var rng = SplitMix64(seed: 3)
        var items: [UInt64] = []
        for _ in 0..<100_000 {
            let x = rng.next()
            items.append(x)
            filter.insert(x)
        }
        #expect(filter.rotations == 0)
        #expect(items.allSatisfy { filter.contains($0) })
        var falsePositives = 0
        for _ in 0..<100_000 where filter.contains(rng.next()) { falsePositives += 1 }
        #expect(falsePositives < 1_200, "\(falsePositives) of 100,000")
    }

    @Test("Rotation keeps the last capacity of items; two full generations stay under 2.5 % false positives")
    func rotation() {
        var filter = SeenFilter(capacity: 50_000)
        var rng = SplitMix64(seed: 5)
        var items: [UInt64] = []
        for _ in 0..<150_000 {
            let x = rng.next()
            items.append(x)
            filter.insert(x)
        }
        #expect(filter.rotations == 2)
        // The last capacity of items is always remembered.
        #expect(items.suffix(50_000).allSatisfy { filter.contains($0) })
        var oldHits = 0
        for x in items.prefix(50_000) where filter.contains(x) { oldHits += 1 }
        var falsePositives = 0
        for _ in 0..<100_000 where filter.contains(rng.next()) { falsePositives += 1 }
        #expect(falsePositives < 2_500, "\(falsePositives) of 100,000")
        // The oldest generation is gone: its items are found only as often as false positives.
        #expect(oldHits < 1_250, "\(oldHits) of 50,000")
    }

    @Test("The previous generation is allocated at the first rotation; saved before or after, the filter decodes equal")
    func previousGenerationAtFirstRotation() throws {
        var filter = SeenFilter(capacity: 100)
        func item(_ n: UInt64) -> UInt64 { n &* 0x9E37_79B9_7F4A_7C15 }
        var next: UInt64 = 1
        for _ in 0..<50 {
            filter.insert(item(next))
            next += 1
        }
        #expect(filter._previous.isEmpty && filter.rotations == 0)
        let unrotated = try StateCoding.decode(SeenFilter.self, from: StateCoding.encode(filter))
        #expect(unrotated == filter && unrotated._previous.isEmpty)
        let saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(filter)) as? [String: Any]
        #expect((saved?["words"] as? [Any])?.count == 2 * filter.wordCount)
        while filter.rotations == 0 {
            filter.insert(item(next))
            next += 1
        }
        #expect(filter._previous.count == filter.wordCount)
        #expect((1..<next).allSatisfy { filter.contains(item($0)) })
        while filter.rotations < 2 {
            filter.insert(item(next))
            next += 1
        }
        let rotated = try StateCoding.decode(SeenFilter.self, from: StateCoding.encode(filter))
        #expect(rotated == filter && rotated.contains(item(next - 1)))
        #expect(try JSONDecoder().decode(SeenFilter.self, from: JSONEncoder().encode(filter)) == filter)
    }

    @Test("insert reports an item seen before; a saved filter decodes equal, a damaged one throws")
    func insertAndCoding() throws {
        var filter = SeenFilter(capacity: 1_000)
        let first = filter.insert(42)
        let second = filter.insert(42)
        #expect(!first && second)
        let data = try JSONEncoder().encode(filter)
        #expect(try JSONDecoder().decode(SeenFilter.self, from: data) == filter)
        // The checkpoint's positional binary encoding reads the fields in the order they are written.
        #expect(try StateCoding.decode(SeenFilter.self, from: StateCoding.encode(filter)) == filter)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["current"] = 2
        let damaged = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(SeenFilter.self, from: damaged) }
    }
}
