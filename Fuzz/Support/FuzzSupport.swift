// Shared helpers for the libFuzzer targets in Fuzz/. Compiled into every target next to its own file; see
// Fuzz/README.md and scripts/fuzz.

#if canImport(Glibc)
import Glibc
#endif

/// Stops the run with a message: libFuzzer sees the abort as a crash and keeps the input.
func fuzzFailure(_ message: String) -> Never {
    fputs("fuzz check failed: \(message)\n", stderr)
    abort()
}

/// The byte ranges of the lines of `data` split on `\n` (the newline excluded, a last line without one included).
func lineRanges(_ data: UnsafeRawBufferPointer) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    for i in 0..<data.count where data[i] == 0x0A {
        ranges.append(start..<i)
        start = i + 1
    }
    if start < data.count { ranges.append(start..<data.count) }
    return ranges
}

/// Calls `body` with each line of `data` as a buffer of its own (a fresh allocation, so that AddressSanitizer
/// catches a parser that reads past the end of its line).
func forEachLine(_ data: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    for range in lineRanges(data) {
        let line = UnsafeMutableRawBufferPointer.allocate(byteCount: range.count, alignment: 1)
        defer { line.deallocate() }
        if range.count > 0 {
            line.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[range]))
        }
        body(UnsafeRawBufferPointer(line))
    }
}

/// A small deterministic generator (SplitMix64) seeded from the input, for chunk sizes and the like.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A per-process scratch file path under /tmp (each libFuzzer job is its own process).
let scratchPath: String = "/tmp/sendwatch-fuzz-\(getpid())-\(UInt64(bitPattern: Int64(time(nil))))"

/// Writes `data` to `path`, replacing it. Traps on failure: that is the harness, not the code under test.
func writeScratchFile(_ path: String, _ data: UnsafeRawBufferPointer) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fuzzFailure("cannot create \(path)") }
    defer { close(fd) }
    var written = 0
    while written < data.count {
        let n = write(fd, data.baseAddress! + written, data.count - written)
        guard n > 0 else { fuzzFailure("cannot write \(path)") }
        written += n
    }
}

/// A strict JSON syntax checker for one value, enough to prove that a line the project writes is one JSON object
/// with the expected keys: hostile input must stay inside string values.
struct JSONCheck {
    let bytes: [UInt8]
    var i = 0
    let maxDepth = 32

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The top-level keys of `line` (one JSON object followed by exactly one `\n`), or nil when it is not that.
    static func objectKeys(ofLine line: [UInt8]) -> [String]? {
        guard line.last == 0x0A else { return nil }
        var check = JSONCheck(Array(line.dropLast()))
        guard let keys = check.object(depth: 0), check.i == check.bytes.count else { return nil }
        return keys
    }

    mutating func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func expect(_ b: UInt8) -> Bool {
        guard peek() == b else { return false }
        i += 1
        return true
    }

    mutating func literal(_ text: String) -> Bool {
        for b in text.utf8 where !expect(b) { return false }
        return true
    }

    /// Parses an object; returns its keys in order.
    mutating func object(depth: Int) -> [String]? {
        guard depth < maxDepth, expect(UInt8(ascii: "{")) else { return nil }
        var keys: [String] = []
        if expect(UInt8(ascii: "}")) { return keys }
        while true {
            guard let key = string() else { return nil }
            keys.append(key)
            guard expect(UInt8(ascii: ":")), value(depth: depth + 1) else { return nil }
            if expect(UInt8(ascii: ",")) { continue }
            return expect(UInt8(ascii: "}")) ? keys : nil
        }
    }

    mutating func array(depth: Int) -> Bool {
        guard depth < maxDepth, expect(UInt8(ascii: "[")) else { return false }
        if expect(UInt8(ascii: "]")) { return true }
        while true {
            guard value(depth: depth + 1) else { return false }
            if expect(UInt8(ascii: ",")) { continue }
            return expect(UInt8(ascii: "]"))
        }
    }

    mutating func value(depth: Int) -> Bool {
        switch peek() {
        case UInt8(ascii: "{"): return object(depth: depth) != nil
        case UInt8(ascii: "["): return array(depth: depth)
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    mutating func digits() -> Int {
        var n = 0
        while let b = peek(), b >= 0x30, b <= 0x39 { i += 1; n += 1 }
        return n
    }

    mutating func number() -> Bool {
        _ = expect(UInt8(ascii: "-"))
        if expect(UInt8(ascii: "0")) {
        } else if digits() == 0 {
            return false
        }
        if expect(UInt8(ascii: ".")), digits() == 0 { return false }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            i += 1
            if !expect(UInt8(ascii: "+")) { _ = expect(UInt8(ascii: "-")) }
            if digits() == 0 { return false }
        }
        return true
    }

    /// Parses a string; returns its raw (still escaped) text. Raw control bytes are not allowed inside.
    mutating func string() -> String? {
        guard expect(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while let b = peek() {
            if b == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<i], as: UTF8.self)
                i += 1
                return text
            }
            if b < 0x20 { return nil }
            i += 1
            if b == UInt8(ascii: "\\") {
                guard let e = peek() else { return nil }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let h = peek(), (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66)
                        else { return nil }
                        i += 1
                    }
                default: return nil
                }
            }
        }
        return nil
    }
}
