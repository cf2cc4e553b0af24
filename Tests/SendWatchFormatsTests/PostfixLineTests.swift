import SendWatchCore
import Testing

@testable import SendWatchFormats

@Suite("Postfix line readers")
struct PostfixLineTests {
    @Test(
        "readQueueID accepts exactly the ids isQueueID accepts",
        arguments: [
            "4B5C7D8E9F", "ABCDEF0123", "3Xx5yzBq7wZ", "3xx5yzbq7wz", "3xx5yzbq7w", "NOQUEUE", "warning",
            "statistics", "error", "abcde", "ABCDE", "ABCD", "A", "", "0123456789ABCDEF01234567",
            "0123456789ABCDEF012345678", "4dRJfT2qZkz1Hs", "4dRJfT2qZkz1Ha", "4dRJfT2qZkZ1Hs", "4dRJfT2qZk",
            "GHIJK12345", "bcdfz12345", "BCDFZ12345",
        ])
    func queueIDShapes(id: String) {
        let line = Array("\(id): removed".utf8)
        line.withUnsafeBytes { p in
            let read = PostfixLine.readQueueID(p, at: 0, classes: PostfixLine.queueIDClasses)
            let expected = PostfixLine.isQueueID(p, 0..<id.utf8.count)
            #expect((read != nil) == expected)
            if let read {
                #expect(read.id == 0..<id.utf8.count)
                #expect(read.rest == id.utf8.count + 2)
            }
        }
    }

    @Test("readQueueID agrees with isQueueID on every single-byte change of an id")
    func queueIDEveryByte() {
        for template in ["4B5C7D8E9F", "3xx5yzbq7wz"] {
            for position in 0..<template.utf8.count {
                for b in UInt8(0)...UInt8(255) {
                    var bytes = Array(template.utf8)
                    bytes[position] = b
                    let line = bytes + Array(": x".utf8)
                    line.withUnsafeBytes { p in
                        let read = PostfixLine.readQueueID(p, at: 0, classes: PostfixLine.queueIDClasses)
                        let expected = PostfixLine.isQueueID(p, 0..<bytes.count)
                        #expect((read != nil) == expected, "byte \(b) at \(position) of \(template)")
                    }
                }
            }
        }
    }

    @Test("readQueueID's word path agrees with isQueueID on ids of 0 to 27 bytes and single-byte changes")
    func queueIDWordPath() {
        // A long rest, so that the words after the id can be loaded.
        let rest = Array(": removed from the queue".utf8)
        for length in 0...27 {
            let id = (0..<length).map { k in Array("0123456789ABCDEF".utf8)[k * 7 % 16] }
            for position in -1..<length {
                for b: UInt8 in [0x2F, 0x3A, 0x40, 0x41, 0x46, 0x47, 0x61, 0x7A, 0x80, 0xC6] {
                    var bytes = id
                    if position >= 0 { bytes[position] = b }
                    let line = bytes + rest
                    line.withUnsafeBytes { p in
                        let read = PostfixLine.readQueueID(p, at: 0, classes: PostfixLine.queueIDClasses)
                        let expected = PostfixLine.isQueueID(p, 0..<bytes.count)
                        #expect((read != nil) == expected, "byte \(b) at \(position) of length \(length)")
                        if let read { #expect(read.id == 0..<bytes.count && read.rest == bytes.count + 2) }
                    }
                }
            }
        }
    }
}
