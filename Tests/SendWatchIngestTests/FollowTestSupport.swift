import Foundation
import SendWatchIngest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Collects every followed line as (stream, text).
struct FollowCollector: FollowedLineConsumer {
    var lines: [(stream: Int, text: String)] = []
    mutating func consume(stream: Int, line: UnsafeRawBufferPointer) {
        lines.append((stream, String(decoding: line, as: UTF8.self)))
    }
    var texts: [String] { lines.map(\.text) }
    mutating func take() -> [String] {
        defer { lines.removeAll() }
        return texts
    }
}

/// A clock the test moves by hand.
final class ManualMilliseconds: @unchecked Sendable {
    var now: Int64 = 1_000_000
    var closure: () -> Int64 { { [unowned self] in self.now } }
}

/// File operations on a scratch directory, for follower tests.
struct LogDirectory {
    let root = TemporaryDirectory()
    var path: String { root.path }

    func full(_ name: String) -> String { path + "/" + name }

    /// Appends `text` to `name` (creating it).
    func append(_ name: String, _ text: String) {
        let fd = open(full(name), O_WRONLY | O_CREAT | O_APPEND, 0o644)
        precondition(fd >= 0, "open \(name)")
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0)
                offset += n
            }
        }
        close(fd)
    }

    /// Creates `name` empty (or empties it, keeping the inode).
    func create(_ name: String) {
        let fd = open(full(name), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0)
        close(fd)
    }

    func rename(_ from: String, _ to: String) { precondition(systemRename(full(from), full(to)) == 0) }
    func remove(_ name: String) { unlink(full(name)) }
    func exists(_ name: String) -> Bool { access(full(name), F_OK) == 0 }
    func read(_ name: String) -> [UInt8] { (try? Array(Data(contentsOf: URL(fileURLWithPath: full(name))))) ?? [] }
    func size(_ name: String) -> Int64 {
        var info = stat()
        return stat(full(name), &info) == 0 ? Int64(info.st_size) : -1
    }
    func inode(_ name: String) -> (UInt64, UInt64) {
        var info = stat()
        precondition(stat(full(name), &info) == 0)
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// logrotate's copytruncate: copy `name` to `copy`, then truncate `name` in place.
    func copyTruncate(_ name: String, to copy: String) {
        let bytes = read(name)
        root.write(copy, bytes)
        precondition(truncate(full(name), 0) == 0)
    }

    /// Compresses `name` into `name.gz` / `name.zst` and removes `name` (like logrotate's compress).
    func compress(_ name: String, as kind: String) {
        let bytes = read(name)
        let packed = kind == "gz" ? Compress.gzipMember(bytes) : Compress.zstdFrame(bytes)
        root.write(name + "." + kind, packed)
        remove(name)
    }

    func makeDirectory(_ name: String) { mkdir(full(name), 0o755) }
    func removeDirectory(_ name: String) { rmdir(full(name)) }
    func makeFIFO(_ name: String) { mkfifo(full(name), 0o644) }
}

/// Lines `prefix1...prefixN`, each with a newline.
func numbered(_ prefix: String, _ range: ClosedRange<Int>) -> String {
    range.map { "\(prefix)\($0)\n" }.joined()
}

private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
