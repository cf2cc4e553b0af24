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

/// Collects lines and calls `onLine` with each (a test renames files from there, while the follower reads).
struct RotatingCollector: FollowedLineConsumer {
    var texts: [String] = []
    let onLine: (String) -> Void
    mutating func consume(stream: Int, line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self)
        texts.append(text)
        onLine(text)
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
    /// Sets `name`'s modification time to `secondsAgo` before now.
    func age(_ name: String, secondsAgo: Int) {
        var times = [timespec](repeating: timespec(tv_sec: time(nil) - secondsAgo, tv_nsec: 0), count: 2)
        precondition(utimensat(AT_FDCWD, full(name), &times, 0) == 0, "utimensat \(name)")
    }
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

    /// The first half of a logrotate run with `rotate 9` and `delaycompress`, as the crash test does it: the
    /// rotated names move up, oldest first (`mail.log.N.gz` -> `.N+1.gz`, `mail.log.1` -> `mail.log.2`).
    func cascadeRotatedNames() {
        for n in stride(from: 8, through: 2, by: -1) where exists("mail.log.\(n).gz") {
            rename("mail.log.\(n).gz", "mail.log.\(n + 1).gz")
        }
        if exists("mail.log.1") { rename("mail.log.1", "mail.log.2") }
    }

    /// The second half: `compress` the file just moved to `mail.log.2`, move `mail.log` to `.1`, create a new
    /// `mail.log`.
    func finishRotation(compress: (String) throws -> Void) rethrows {
        if exists("mail.log.2") { try compress("mail.log.2") }
        rename("mail.log", "mail.log.1")
        create("mail.log")
    }

    /// A whole `delaycompress` rotation with our own gzip writer.
    func rotateDelayCompress() {
        cascadeRotatedNames()
        finishRotation { compress($0, as: "gz") }
    }

    /// Appends `lines` to `mail.log`, each with its newline.
    func appendLines(_ lines: [String]) { append("mail.log", lines.map { $0 + "\n" }.joined()) }

    func makeDirectory(_ name: String) { mkdir(full(name), 0o755) }
    func removeDirectory(_ name: String) { rmdir(full(name)) }
    func makeFIFO(_ name: String) { mkfifo(full(name), 0o644) }
}

/// Lines `prefix1...prefixN`, each with a newline.
func numbered(_ prefix: String, _ range: ClosedRange<Int>) -> String {
    range.map { "\(prefix)\($0)\n" }.joined()
}

/// `count` lines `prefix1 zzz…` of about 40 bytes, so that a file of a few of them passes the 4 KiB fingerprint.
func paddedLines(_ prefix: String, _ count: Int) -> [String] {
    (1...count).map { "\(prefix)\($0) " + String(repeating: "z", count: 30) }
}

/// The lines as runs of their first letter (the file they came from): `x150 y150 z150`.
func letterRuns(_ texts: [String]) -> String {
    var runs: [(Character, Int)] = []
    for text in texts {
        guard let first = text.first else { continue }
        if let last = runs.last, last.0 == first {
            runs[runs.count - 1].1 += 1
        } else {
            runs.append((first, 1))
        }
    }
    return runs.map { "\($0.0)\($0.1)" }.joined(separator: " ")
}

/// `gzip -f` of `name` in `dir` with the real tool when installed (it writes a name header), else our own
/// gzip member.
func gzipWithTool(_ name: String, in dir: LogDirectory) throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else {
        dir.compress(name, as: "gz")
        return
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
    process.arguments = ["-f", dir.full(name)]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw GzipFailed(status: process.terminationStatus) }
}

/// `gzip` exited with a failure.
struct GzipFailed: Error {
    var status: Int32
}

private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
