import SendWatchCore
import Testing

@testable import SendWatchFormats

@Suite("Postfix message table")
struct PostfixMessageTableTests {
    private static func id(_ text: String) -> PostfixQueueID {
        Array(text.utf8).withUnsafeBytes { PostfixQueueID($0, 0..<$0.count, scope: 0) }
    }

    @Test(
        "Queue ids compare and print by their bytes",
        arguments: ["ABCDE", "0123456789AB", "4Q3wXz1bcdfghjklmnpq", String(repeating: "Z", count: 24)])
    func queueIDRoundTrip(_ text: String) {
        // In a longer buffer (the masked-load path) and alone (the copy path).
        let padded = Array((text + ": removed and more bytes after the id").utf8)
        let inLine = padded.withUnsafeBytes { PostfixQueueID($0, 0..<text.utf8.count, scope: 0) }
        #expect(inLine == Self.id(text))
        #expect(inLine.text == text)
        #expect(inLine.hash == Self.id(text).hash)
        #expect(Self.id(text) != Self.id(String(text.dropLast()) + "1"))
    }

    @Test("A message slot is 160 bytes, a pending notice's 56; rare fields are shared by copies until one changes")
    func compactSlot() {
        #expect(MemoryLayout<PostfixMessage>.stride == 160)
        #expect(MemoryLayout<PostfixPendingNotice>.stride == 56)
        var m = PostfixMessage(id: Self.id("ABCDE12345"), time: EventTime(microseconds: 1))
        m.localUser = nil
        #expect(m.localUser == nil && m.account == nil && m.template == nil)
        #expect(m.queueIDText == "ABCDE12345")
        for k: UInt64 in 1...5 { m.addAttempted(k) }
        #expect(m.attemptedCount == 5 && m.moreAttempted == [3, 4, 5])
        #expect((1...5).allSatisfy { m.hasAttempted($0) } && !m.hasAttempted(6))
        m.account = "acct1"
        var copy = m
        copy.account = "acct2"
        copy.template = "welcome"
        copy.addAttempted(6)
        #expect(m.account == "acct1" && m.template == nil && !m.hasAttempted(6))
        #expect(copy.account == "acct2" && copy.template == "welcome" && copy.hasAttempted(6))
        // A queue id longer than 15 bytes (no inline string) is kept after its first use.
        let long = String(repeating: "Q", count: 20)
        var l = PostfixMessage(id: Self.id(long), time: EventTime(microseconds: 1))
        #expect(l.queueIDText == long && l.queueIDText == long)
    }

    @Test("Random inserts and removes agree with a dictionary (backward-shift deletion)", arguments: [1, 2, 3])
    func randomAgainstReference(_ seed: UInt64) {
        var table = RecencyTable<PostfixMessage>(capacity: 5000)
        var reference: [String: Int32] = [:]
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        for step in 0..<40_000 {
            let key = "A0" + String(next() % 3000 + 0x1000, radix: 16, uppercase: true)
            let qid = Self.id(key)
            let found = table.find(qid)
            #expect(found == reference[key], "step \(step) key \(key)")
            if let slot = found {
                if next() % 2 == 0 {
                    table.remove(slot)
                    reference[key] = nil
                }
            } else if !table.isFull {
                reference[key] = table.insert(PostfixMessage(id: qid, time: EventTime(microseconds: Int64(step))))
            }
            #expect(table.count == reference.count)
        }
        for (key, slot) in reference { #expect(table.find(Self.id(key)) == slot) }
    }

    @Test("Flags and the header trust pack into one byte without disturbing each other")
    func packedFlags() {
        var m = PostfixMessage(id: Self.id("ABCDE"), time: EventTime(microseconds: 1))
        #expect(m.inUse && !m.isNotice && !m.isFilterHop && !m.senderFromQueueManager && m.headerTrust == .undecided)
        for trust in [HeaderTrust.believed, .notBelieved, .undecided, .notBelieved] {
            m.headerTrust = trust
            m.isNotice.toggle()
            m.senderFromQueueManager.toggle()
            #expect(m.headerTrust == trust && m.inUse && !m.isFilterHop)
        }
        #expect(!m.isNotice && !m.senderFromQueueManager && m.headerTrust == .notBelieved)
        m.isFilterHop = true
        m.inUse = false
        #expect(m.isFilterHop && !m.inUse && m.headerTrust == .notBelieved)
        var notice = PostfixMessage(id: Self.id("ABCDE"), time: EventTime(microseconds: 1))
        notice.isNotice = true
        #expect(notice.isBareNotice)
        notice.sender = ""
        #expect(!notice.isBareNotice)
    }

    @Test("A notice named before its own lines waits in a compact slot and moves into the messages at its first line")
    func pendingNoticeMoves() {
        var table = PostfixMessageTable(capacity: 10)
        let notice = Self.id("NOTICE1")
        #expect(table.markNotice(notice, at: EventTime(microseconds: 5)) == (true, 0))
        #expect(table.markNotice(notice, at: EventTime(microseconds: 7)) == (false, 0))
        #expect(table.count == 1 && table.pendingNotices == 1 && table.contains(notice))
        #expect(table.oldestTouch == EventTime(microseconds: 7))
        // Its first line of its own (an earlier time never moves the last touch back).
        let slot = table.touch(notice, at: EventTime(microseconds: 6))
        #expect(slot != nil && table.pendingNotices == 0 && table.count == 1)
        if let slot {
            #expect(table[slot].isNotice && table[slot].isBareNotice)
            #expect(table[slot].lastTouched == EventTime(microseconds: 7))
        }
        // A message that is named a notice later is flagged where it is, once.
        let message = Self.id("MSG1")
        let (m, evicted) = table.open(message, at: EventTime(microseconds: 8))
        #expect(evicted == 0 && !table[m].isNotice)
        #expect(table.markNotice(message, at: EventTime(microseconds: 9)) == (true, 0))
        #expect(table[m].isNotice && table.pendingNotices == 0)
        #expect(table.markNotice(message, at: EventTime(microseconds: 9)) == (false, 0))
        #expect(table.remove(notice) && !table.remove(notice) && table.count == 1)
        table._checkInvariants()
    }

    /// What the table should hold, oldest first: the queue id, whether it is a notice, whether it is pending, its
    /// last touch.
    private struct ReferenceEntry: Equatable {
        var id: String
        var isNotice: Bool
        var isPending: Bool
        var lastTouched: Int64
    }

    @Test(
        "Messages and pending notices are evicted and expire in one least-recently-touched order",
        arguments: zip([1, 2, 3] as [UInt64], [UInt32.max, 40, 7]))
    func oneOrderAcrossBothTables(seed: UInt64, clockLimit: UInt32) {
        let capacity = 6
        var table = PostfixMessageTable(capacity: capacity)
        // A small limit numbers both tables again every few touches.
        table.clockLimit = clockLimit
        var reference: [ReferenceEntry] = []
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ n: UInt64) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % n)
        }
        func makeRoom() -> Int {
            var evicted = 0
            while reference.count >= capacity {
                reference.removeFirst()
                evicted += 1
            }
            return evicted
        }
        for step in 1...4000 {
            let key = "Q\(next(12))"
            let qid = Self.id(key)
            let time = Int64(step - next(3))
            let k = reference.firstIndex { $0.id == key }
            func touched(pending: Bool) {
                guard let k else { return }
                var e = reference.remove(at: k)
                e.isPending = e.isPending && pending
                e.lastTouched = max(e.lastTouched, time)
                reference.append(e)
            }
            switch next(6) {
            case 0, 1:
                let result = table.open(qid, at: EventTime(microseconds: time))
                if k != nil {
                    touched(pending: false)
                    #expect(result.evicted == 0)
                } else {
                    #expect(result.evicted == makeRoom(), "step \(step)")
                    reference.append(ReferenceEntry(id: key, isNotice: false, isPending: false, lastTouched: time))
                }
            case 2:
                let result = table.markNotice(qid, at: EventTime(microseconds: time))
                if let k {
                    #expect(result == (!reference[k].isNotice, 0), "step \(step)")
                    reference[k].isNotice = true
                    touched(pending: true)
                } else {
                    #expect(result == (true, makeRoom()), "step \(step)")
                    reference.append(ReferenceEntry(id: key, isNotice: true, isPending: true, lastTouched: time))
                }
            case 3:
                #expect((table.touch(qid, at: EventTime(microseconds: time)) != nil) == (k != nil))
                touched(pending: false)
            case 4:
                #expect(table.remove(qid) == (k != nil))
                if let k { reference.remove(at: k) }
            default:
                // Expiry: the oldest entry of either table goes first.
                #expect(table.oldestTouch?.microseconds == reference.first?.lastTouched)
                table.removeOldest()
                if !reference.isEmpty { reference.removeFirst() }
            }
            var held: [ReferenceEntry] = []
            table.forEachOldestFirst { m in
                held.append(
                    ReferenceEntry(
                        id: m.id.text, isNotice: m.isNotice, isPending: false, lastTouched: m.lastTouched.microseconds))
            }
            let expected = reference.map {
                ReferenceEntry(
                    id: $0.id, isNotice: $0.isNotice, isPending: false,
                    lastTouched: $0.lastTouched)
            }
            #expect(held == expected, "step \(step)")
            #expect(table.pendingNotices == reference.count(where: \.isPending), "step \(step)")
            table._checkInvariants()
        }
    }

    @Test("Restoring puts bare notices back among the pending ones, in the saved order")
    func restoreSplitsBareNotices() {
        var table = PostfixMessageTable(capacity: 3)
        _ = table.markNotice(Self.id("N1"), at: EventTime(microseconds: 1))
        _ = table.open(Self.id("M1"), at: EventTime(microseconds: 2))
        _ = table.markNotice(Self.id("N2"), at: EventTime(microseconds: 3))
        if let slot = table.touch(Self.id("N2"), at: EventTime(microseconds: 4)) { table[slot].sender = "" }
        var saved: [PostfixMessage] = []
        table.forEachOldestFirst { saved.append($0) }
        #expect(saved.map(\.id.text) == ["N1", "M1", "N2"])

        var restored = PostfixMessageTable(capacity: 2)
        let evicted = saved.map { restored.restore($0) }
        #expect(evicted == [0, 0, 1])
        #expect(restored.count == 2 && restored.pendingNotices == 0 && !restored.contains(Self.id("N1")))
        var again = PostfixMessageTable(capacity: 3)
        for m in saved { _ = again.restore(m) }
        #expect(again.pendingNotices == 1)
        var resaved: [String] = []
        again.forEachOldestFirst { resaved.append($0.id.text) }
        #expect(resaved == ["N1", "M1", "N2"])
        again._checkInvariants()
    }
}
