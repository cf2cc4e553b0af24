import SendWatchTesting
import Testing

@testable import SendWatchFormats

@Suite struct EximMessageTableTests {
    static func key(_ k: Int) -> EximMessageKey {
        let text = Array("1xXXZj-0000c0-\(k < 10 ? "0" : "")\(k)".utf8)
        return text.withUnsafeBytes { EximMessageKey($0, 0..<$0.count, host: 0) }
    }

    @Test(
        "Random inserts, touches and removes agree with a simple model, also with colliding hashes",
        arguments: [UInt64(7), 1 << 40])
    func modelBased(hashModulus: UInt64) {
        var rng = SplitMix64(seed: hashModulus)
        var table = EximMessageTable(capacity: 40)
        var model: [Int: Int32] = [:]  // key -> entry index
        var order: [Int] = []  // least recently touched first
        for step in 0..<20_000 {
            let k = Int(rng.next() % 60)
            let hash = UInt64(k) % hashModulus
            let found = table.find(Self.key(k), hash: hash)
            #expect(found == model[k], "step \(step)")
            switch rng.next() % 3 {
            case 0:
                if let f = found {
                    table.touch(f, at: Int64(step))
                    order.removeAll { $0 == k }
                    order.append(k)
                } else if !table.isFull {
                    model[k] = table.insert(
                        EximMessageState(
                            key: Self.key(k), hash: hash, seconds: Int64(step), phase: .arrived, queueID: "\(k)"))
                    order.append(k)
                }
            case 1:
                if let f = found {
                    #expect(table[f].queueID == "\(k)")
                    table.remove(f)
                    model[k] = nil
                    order.removeAll { $0 == k }
                }
            default:
                if let head = table.oldestSlot, let oldest = order.first {
                    #expect(table[head].queueID == "\(oldest)")
                }
            }
            #expect(table.count == model.count)
        }
        var drained: [String] = []
        table.forEachOldestFirst { drained.append($0.queueID) }
        table.removeAll()
        #expect(drained == order.map { "\($0)" })
        #expect(table.count == 0)
    }

    @Test("Recipient deduplication switches to a set past 32 recipients without losing any")
    func attempted() {
        var s = EximMessageState(key: EximMessageKey(), hash: 0, seconds: 0, phase: .arrived, queueID: "x")
        for h in 0..<UInt64(100) {
            let inserted = s.insertAttempted(h &* 0x9E37_79B9)
            #expect(inserted)
        }
        for h in 0..<UInt64(100) {
            let inserted = s.insertAttempted(h &* 0x9E37_79B9)
            #expect(!inserted)
        }
    }
}
