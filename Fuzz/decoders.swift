// Fuzz target: InputSource (magic-byte detection, zstd, gzip, plain) over a scratch file holding the input.
//
// Damaged streams must end in a thrown IngestError, never a crash; a plain input must read back unchanged.

import SendWatchIngest

/// Decompressed bytes read per input at most (decompression bombs would otherwise only burn time).
let maxDecodedBytes = 8 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = UnsafeRawBufferPointer(start: start, count: count)
    writeScratchFile(scratchPath, data)
    // The read size comes from the input's length, so that the magic bytes stay the fuzzer's to choose.
    let bufferBytes = [1, 7, 4096, 65_536][count % 4]
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 16)
    defer { buffer.deallocate() }
    var plain: [UInt8] = []
    do {
        var source = try InputSource.open(path: scratchPath)
        var total = 0
        while total < maxDecodedBytes {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            guard n > 0, n <= bufferBytes else { fuzzFailure("read returned \(n) for a \(bufferBytes)-byte buffer") }
            total += n
            if source.compression == .none { plain += UnsafeRawBufferPointer(rebasing: buffer[..<n]) }
        }
        if total < maxDecodedBytes, source.compression == .none, !plain.elementsEqual(data) {
            fuzzFailure("plain input read back as \(plain.count) different bytes (of \(count))")
        }
        guard source.decompressedBytesRead == Int64(total) else {
            fuzzFailure("decompressedBytesRead \(source.decompressedBytesRead), read \(total)")
        }
    } catch {
        // An IngestError (typed throws): the expected end of a damaged stream.
        _ = error.code
    }
    return 0
}
