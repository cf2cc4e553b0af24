import Foundation
import SendWatchCore
import SendWatchTesting
import SendWatchWindows
import Testing

private struct TestValue: ApproximateHeapSize, Equatable {
    var payload: Int
    var heap: Int
    var approximateHeapBytes: Int { heap }
}

/// The model: entries oldest first, with the same byte rule.
private struct ModelTable {
    var entries: [(key: UInt64, name: String, value: TestValue, last: Int64)] = []
    let maxEntries: Int
    let maxBytes: Int
    var evictedForCount: UInt64 = 0
    var evictedForBytes: UInt64 = 0
    var expired: UInt64 = 0

    static func bytes(_ name: String, _ v: TestValue) -> Int {
        BoundedKeyTable<TestValue>.perEntryOverheadBytes + (name.utf8.count <= 15 ? 0 : 32 + name.utf8.count) + v.heap
    }
    var total: Int { entries.reduce(0) { $0 + Self.bytes($1.name, $1.value) } }

    mutating func insert(_ key: UInt64, _ name: String, _ v: TestValue, _ t: Int64) {
        if let i = entries.firstIndex(where: { $0.key == key }) {
            var e = entries.remove(at: i)
            e.name = name
            e.value = v
            e.last = max(e.last, t)
            entries.append(e)
            return
        }
        while entries.count >= maxEntries {
            entries.removeFirst()
            evictedForCount += 1
        }
        while !entries.isEmpty && total + Self.bytes(name, v) > maxBytes {
            entries.removeFirst()
            evictedForBytes += 1
        }
        entries.append((key, name, v, t))
    }

    mutating func touch(_ key: UInt64, _ t: Int64) {
        guard let i = entries.firstIndex(where: { $0.key == key }) else { return }
        var e = entries.remove(at: i)
        e.last = max(e.last, t)
        entries.append(e)
    }

    mutating func enforce() {
        while entries.count > 1 && total > maxBytes {
            entries.removeFirst()
            evictedForBytes += 1
        }
    }

    mutating func expire(_ cutoff: Int64, _ limit: Int) -> Int {
        var n = 0
        while n < limit, let first = entries.first, first.last <= cutoff {
            entries.removeFirst()
            n += 1
        }
        expired += UInt64(n)
        return n
    }
}

@Suite("BoundedKeyTable")
struct BoundedKeyTableTests {
    @Test("Evicts the least recently updated entry first when full")
    func evictionOrder() throws {
        var table = BoundedKeyTable<TestValue>(maxEntries: 3, maxBytes: 1 << 20)
        var clock = ManualEventTime()
        for k: UInt64 in 1...3 {
            table.insert(key: k, name: "k\(k)", value: TestValue(payload: Int(k), heap: 0), at: clock.now)
            clock.advance(seconds: 1)
        }
        // Touch 1: now 2 is the least recently updated.
        let one = try #require(table.find(1))
        table.touch(one, at: clock.now)
        table[one].payload += 10
        table.insert(key: 4, name: "k4", value: TestValue(payload: 4, heap: 0), at: clock.now)
        #expect(table.keysByRecency() == [3, 1, 4])
        #expect(table.find(2) == nil)
        #expect(table.evictedForCount == 1)
        #expect(table[try #require(table.find(1))].payload == 11)
        let sorted = table.entries(sortedBy: { $0.value.payload > $1.value.payload }).map(\.name)
        #expect(sorted == ["k1", "k4", "k3"])
        table._checkInvariants()
    }

    @Test("Entries without a name hold no names' array; a saved table still lists one name per slot")
    func unnamedEntries() throws {
        var table = BoundedKeyTable<SlidingCount>(maxEntries: 1_000, maxBytes: 1 << 20)
        let clock = ManualEventTime()
        let count = SlidingCount(horizonMicroseconds: 60_000_000, bucketCount: 6)
        for k: UInt64 in 0..<100 { table.insert(key: k, name: "", value: count, at: clock.now) }
        #expect(table._nameSlots == 0)
        let bytesWithoutNames = table.approximateBytes
        // The budget counts every entry's name field all the same.
        let perEntry = BoundedKeyTable<SlidingCount>.perEntryOverheadBytes + count.approximateHeapBytes
        #expect(bytesWithoutNames == 100 * perEntry)
        let unnamed = try roundTrip(table)
        #expect(unnamed._nameSlots == 0)
        #expect(try encodedState(unnamed) == encodedState(table))
        let saved = try JSONSerialization.jsonObject(with: JSONEncoder().encode(table)) as? [String: Any]
        #expect((saved?["names"] as? [String])?.count == 100)

        // A name grows the array to its slot; the unnamed slots before it keep "".
        let named = table.insert(key: 500, name: "acct-500", value: count, at: clock.now)
        #expect(table._nameSlots == 101)
        #expect(table.name(named) == "acct-500")
        #expect(table.name(try #require(table.find(7))) == "")
        // A removed named entry's slot, reused without a name, has none.
        table.remove(500)
        let reused = table.insert(key: 501, name: "", value: count, at: clock.now)
        #expect(reused == named)
        #expect(table.name(reused) == "")
        #expect(table.approximateBytes == bytesWithoutNames + perEntry)
        let restored = try roundTrip(table)
        #expect(try encodedState(restored) == encodedState(table))
        #expect(restored.entries(sortedBy: { $0.key < $1.key }).map(\.name) == Array(repeating: "", count: 101))
        table._checkInvariants()
        restored._checkInvariants()
    }

    @Test("Keeps the byte budget, re-accounting values that grow, and counts byte evictions")
    func byteBudget() throws {
        let overhead = BoundedKeyTable<TestValue>.perEntryOverheadBytes
        var table = BoundedKeyTable<TestValue>(maxEntries: 100, maxBytes: 10 * (overhead + 100))
        let clock = ManualEventTime()
        for k: UInt64 in 0..<10 {
            table.insert(key: k, name: "a", value: TestValue(payload: 0, heap: 100), at: clock.now)
        }
        #expect(table.approximateBytes == 10 * (overhead + 100))
        #expect(table.evictions == 0)
        // Growing one value puts the table over budget; enforceBudget evicts from the oldest end.
        let s = try #require(table.find(9))
        table[s].heap = 350
        #expect(table.approximateBytes == 10 * (overhead + 100) + 250)
        table.enforceBudget()
        // Each eviction frees overhead + 100 bytes (> 125), so two cover the 250 bytes of growth.
        #expect(overhead + 100 > 125)
        #expect(table.count == 8)
        #expect(table.evictedForBytes == 2)
        #expect(table.approximateBytes <= table.maxBytes)
        // A long name is accounted on the heap.
        let long = String(repeating: "x", count: 40)
        table.insert(key: 99, name: long, value: TestValue(payload: 0, heap: 0), at: clock.now)
        #expect(table.approximateBytes <= table.maxBytes)
        table._checkInvariants()
    }

    // Both a write in place and a get-then-set that moves the value out keep the array's storage, so this test
    // does not tell them apart: it proves only that no copy of the array is made.
    @Test("A value changed through the subscript keeps its arrays without copying them and is accounted again")
    func subscriptWritesWithoutCopying() throws {
        struct Items: ApproximateHeapSize {
            var items: [Int]
            var approximateHeapBytes: Int { items.count * 8 }
        }
        let overhead = BoundedKeyTable<Items>.perEntryOverheadBytes
        var table = BoundedKeyTable<Items>(maxEntries: 10, maxBytes: 1 << 20)
        let clock = ManualEventTime()
        var items: [Int] = []
        items.reserveCapacity(64)
        let long = String(repeating: "n", count: 20)
        table.insert(key: 1, name: long, value: Items(items: items), at: clock.now)
        table.insert(key: 2, name: "short", value: Items(items: [1, 2]), at: clock.now)
        items = []
        let s = try #require(table.find(1))
        let before = table[s].items.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        for i in 0..<40 { table[s].items.append(i) }
        let after = table[s].items.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        // The array kept its storage: the write reached it uniquely referenced, without copying it.
        #expect(before == after)
        #expect(table[s].items == Array(0..<40))
        // The long name owns a heap block (32 + 20 bytes); the short one is inline.
        #expect(table.approximateBytes == 2 * overhead + (32 + 20) + 40 * 8 + 2 * 8)
        let t = try #require(table.find(2))
        table[t].items.removeAll()
        #expect(table.approximateBytes == 2 * overhead + (32 + 20) + 40 * 8)
        table._checkInvariants()
    }

    @Test("Expires idle entries in update order, bounded per call")
    func expireIdle() {
        var table = BoundedKeyTable<TestValue>(maxEntries: 100, maxBytes: 1 << 20)
        var clock = ManualEventTime()
        for k: UInt64 in 0..<10 {
            table.insert(key: k, name: "", value: TestValue(payload: 0, heap: 0), at: clock.now)
            clock.advance(seconds: 60)
        }
        let cutoff = EventTime(seconds: clock.now.seconds - 300)
        #expect(table.expireIdle(notUpdatedSince: cutoff, limit: 2) == 2)
        // Entries updated at 0, 60, ..., 300 s are at or before the cutoff.
        #expect(table.expireIdle(notUpdatedSince: cutoff) == 4)
        #expect(table.keysByRecency() == [6, 7, 8, 9])
        #expect(table.expired == 6)
        table._checkInvariants()
    }

    @Test("Matches a model under random inserts, touches, growth, expiry and removal", arguments: [UInt64(1), 2, 3])
    func modelBased(seed: UInt64) {
        let maxBytes = 12 * (BoundedKeyTable<TestValue>.perEntryOverheadBytes + 50)
        var table = BoundedKeyTable<TestValue>(maxEntries: 16, maxBytes: maxBytes)
        var model = ModelTable(maxEntries: 16, maxBytes: maxBytes)
        var rng = SplitMix64(seed: seed)
        var t: Int64 = 1_000_000
        for step in 0..<3_000 {
            t += Int64(rng.next() % 1_000)
            let key = rng.next() % 40
            switch rng.next() % 10 {
            case 0..<4:
                let name = rng.next() % 3 == 0 ? String(repeating: "n", count: 20) : "k\(key)"
                let v = TestValue(payload: Int(rng.next() % 100), heap: Int(rng.next() % 120))
                table.insert(key: key, name: name, value: v, at: EventTime(microseconds: t))
                model.insert(key, name, v, t)
            case 4..<6:
                let late = t - Int64(rng.next() % 3_000)
                if let s = table.find(key) { table.touch(s, at: EventTime(microseconds: late)) }
                model.touch(key, late)
            case 6:
                if let s = table.find(key) {
                    let heap = Int(rng.next() % 200)
                    table[s].heap = heap
                    if let i = model.entries.firstIndex(where: { $0.key == key }) { model.entries[i].value.heap = heap }
                }
            case 7:
                table.enforceBudget()
                model.enforce()
            case 8:
                let cutoff = t - Int64(rng.next() % 20_000)
                let limit = Int(rng.next() % 4)
                #expect(
                    table.expireIdle(notUpdatedSince: EventTime(microseconds: cutoff), limit: limit)
                        == model.expire(cutoff, limit))
            default:
                table.remove(key)
                model.entries.removeAll { $0.key == key }
            }
            #expect(table.keysByRecency() == model.entries.map(\.key), "step \(step)")
            #expect(table.approximateBytes == model.total)
            if internalChecks || step % 50 == 0 { table._checkInvariants() }
        }
        let all = table.entries(sortedBy: { $0.key < $1.key })
        let expected = model.entries.sorted { $0.key < $1.key }
        #expect(all.map(\.value) == expected.map(\.value))
        #expect(all.map(\.lastUpdate.microseconds) == expected.map(\.last))
        #expect(table.evictedForCount == model.evictedForCount)
        #expect(table.evictedForBytes == model.evictedForBytes)
        #expect(table.expired == model.expired)
        table._checkInvariants()
    }
}
