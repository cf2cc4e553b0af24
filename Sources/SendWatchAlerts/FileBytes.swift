#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of `path` from `offset` to its end (retrying `EINTR`); nil when it cannot be opened or read.
/// For reading back an output file and the delivery journals at start-up, never on a hot path.
func readFile(_ path: String, from offset: Int64 = 0) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { _ = close(fd) }
    guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { return nil }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

/// Calls `body` with each record of `records`: the bytes up to and including each newline, and a last piece
/// without one, if any.
func forEachRecord(in records: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    guard let base = records.baseAddress else { return }
    var start = 0
    while start < records.count {
        // Safe: start < count, so base + start and the count - start bytes after it are inside `records`.
        let end: Int
        if let found = memchr(base + start, Int32(UInt8(ascii: "\n")), records.count - start) {
            end = base.distance(to: UnsafeRawPointer(found)) + 1
        } else {
            end = records.count
        }
        body(UnsafeRawBufferPointer(rebasing: records[start..<end]))
        start = end
    }
}
