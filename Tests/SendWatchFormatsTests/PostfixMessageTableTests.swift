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

    @Test("A message slot is 160 bytes; its rare fields are shared by copies until one changes")
    func compactSlot() {
        #expect(MemoryLayout<PostfixMessage>.stride == 160)
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
        var table = PostfixMessageTable(capacity: 5000)
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
}
