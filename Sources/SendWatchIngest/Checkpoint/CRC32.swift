import CZlib

/// CRC-32 (the zlib/gzip polynomial) of a byte buffer, through zlib's vectorised implementation.
///
/// - Complexity: O(n); several GB/s.
public func crc32(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
    var crc = UInt(previous)
    var rest = bytes
    // zlib takes a 32-bit length: feed large buffers in pieces.
    while !rest.isEmpty {
        let n = min(rest.count, 1 << 30)
        crc = CZlib.crc32(crc, rest.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(n))
        rest = UnsafeRawBufferPointer(rebasing: rest[n...])
    }
    return UInt32(truncatingIfNeeded: crc)
}
