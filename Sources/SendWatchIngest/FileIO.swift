#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `strerror(code)` with the number, for messages: "No space left on device, errno 28".
package func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return "\(String(cString: text)), errno \(code)"
}

/// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`.
///
/// - Returns: the bytes written and, if a write failed, its errno (the bytes before it were written).
package func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> (written: Int, errno: Int32?) {
    var offset = 0
    while offset < bytes.count {
        // Safe: offset < count, so the buffer is non-empty and its base address non-nil.
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            return (offset, errno)
        }
        offset += n
    }
    return (offset, nil)
}

/// The last modification time of a `stat(2)` result: `st_mtim` (`st_mtimespec` on Darwin).
func modificationTime(of info: stat) -> timespec {
    #if canImport(Darwin)
    return info.st_mtimespec
    #else
    return info.st_mtim
    #endif
}
