import Foundation
import SendWatchIngest
import Testing

@Suite("Checkpoint file")
struct CheckpointFileTests {
    @Test("Header and body survive a write and a read; the header gains the body's length and CRC")
    func roundTrip() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/checkpoint"
        #expect(try CheckpointFile.read(path: path) == nil)
        let body: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try CheckpointFile.write(path: path, header: Array(#"{"version":1}"#.utf8), body: body)
        let back = try #require(try CheckpointFile.read(path: path))
        #expect(back.body == body)
        let header = String(decoding: back.header, as: UTF8.self)
        #expect(header.hasPrefix(#"{"version":1,"body_bytes":100000,"body_crc32":"#))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        // A second write replaces the first.
        try CheckpointFile.write(path: path, header: Array("{}".utf8), body: [1, 2, 3])
        #expect(try CheckpointFile.read(path: path)?.body == [1, 2, 3])
    }

    @Test("A truncated, damaged or foreign file is reported, and left in place")
    func damaged() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/checkpoint"
        try CheckpointFile.write(
            path: path, header: Array(#"{"version":1}"#.utf8), body: Array(repeating: 7, count: 1000))
        let good = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        var flipped = good
        flipped[flipped.count - 10] ^= 0x40
        let cases: [(String, [UInt8])] = [
            ("truncated", Array(good.dropLast(1))),
            ("flipped", flipped),
            ("no newline", Array(good.prefix(10))),
            ("foreign", Array("hello\nworld".utf8)),
            ("empty", []),
        ]
        for (name, bytes) in cases {
            dir.write("checkpoint", bytes)
            #expect(throws: CheckpointFile.Failure.self, "\(name)") { try CheckpointFile.read(path: path) }
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("A leftover temporary file from a crash before the rename does not count")
    func leftoverTemporary() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/checkpoint"
        try CheckpointFile.write(path: path, header: Array("{}".utf8), body: [9])
        dir.write("checkpoint.tmp", Array("{\"body_bytes\":1,\"body_crc32\":0}\nX".utf8))
        #expect(try CheckpointFile.read(path: path)?.body == [9])
        try CheckpointFile.write(path: path, header: Array("{}".utf8), body: [8])
        #expect(try CheckpointFile.read(path: path)?.body == [8])
    }

    @Test("Writing into a directory that does not exist fails with the path named")
    func unwritable() {
        #expect(throws: CheckpointFile.Failure.self) {
            try CheckpointFile.write(path: "/nonexistent-sendwatch-dir/checkpoint", header: Array("{}".utf8), body: [])
        }
    }
}
