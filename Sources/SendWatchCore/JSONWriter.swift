/// Appends JSON to a byte buffer without Foundation: the one place SendWatch turns values into JSON text.
///
/// Strings are escaped so that the output is always valid JSON and a hostile value stays data: `"` and `\`
/// are escaped, every control character (U+0000–U+001F, U+007F–U+009F) and the line and paragraph separators
/// (U+2028, U+2029) are written as `\uXXXX` or its short form, so that a record is always one line for any line
/// splitter, and invalid UTF-8 becomes U+FFFD. Keys are written in the order the caller writes them.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]
    private var needsComma: [Bool] = []

    /// Creates a writer with `capacity` bytes reserved.
    public init(capacity: Int = 4096) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Clears the buffer, keeping its capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma.removeAll(keepingCapacity: true)
    }

    /// Opens an object (as a value of the enclosing container, if any).
    public mutating func beginObject() { open(UInt8(ascii: "{")) }

    /// Closes the innermost object.
    public mutating func endObject() { close(UInt8(ascii: "}")) }

    /// Opens an array (as a value of the enclosing container, if any).
    public mutating func beginArray() { open(UInt8(ascii: "[")) }

    /// Closes the innermost array.
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Opens a container with `bracket` (`{` or `[`) as a value of the enclosing one; its first member needs no
    /// comma.
    private mutating func open(_ bracket: UInt8) {
        separator()
        bytes.append(bracket)
        needsComma.append(false)
    }

    /// Closes the innermost container with `bracket` (`}` or `]`).
    private mutating func close(_ bracket: UInt8) {
        _ = needsComma.popLast()
        bytes.append(bracket)
    }

    /// Writes an object key; the next value call writes its value.
    public mutating func key(_ name: StaticString) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        pendingValueAfterKey = true
    }

    /// Writes an object key given at run time (escaped like any string).
    public mutating func key(dynamic name: String) {
        separator()
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        pendingValueAfterKey = true
    }

    private var pendingValueAfterKey = false

    /// Writes a string value (escaped).
    public mutating func string(_ value: String) {
        separator()
        appendEscaped(value)
    }

    /// Writes a string value, or `null`.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes an array of strings.
    public mutating func strings(_ values: some Sequence<String>) {
        beginArray()
        for v in values { string(v) }
        endArray()
    }

    /// Writes an integer value.
    public mutating func int(_ value: Int) {
        separator()
        appendInt(Int64(value))
    }

    /// Writes an integer value.
    public mutating func int64(_ value: Int64) {
        separator()
        appendInt(value)
    }

    /// Writes a floating-point value with up to `decimals` fractional digits (trailing zeros trimmed);
    /// non-finite values become `null`, since JSON has no representation for them.
    public mutating func double(_ value: Double, decimals: Int = 4) {
        separator()
        guard value.isFinite else {
            bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        var scale = 1.0
        for _ in 0..<max(0, min(decimals, 9)) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9.0e17 else {
            // Too large for the fixed-point path: Swift's shortest round-trip form is valid JSON for finite values.
            bytes.append(contentsOf: Array("\(value)".utf8))
            return
        }
        if value < 0 && scaled != 0 { bytes.append(UInt8(ascii: "-")) }
        let whole = Int64(scaled / scale)
        var frac = Int64(scaled - Double(whole) * scale)
        appendInt(whole)
        var digits = max(0, min(decimals, 9))
        while digits > 0 && frac % 10 == 0 && frac != 0 {
            frac /= 10
            digits -= 1
        }
        if frac != 0 {
            bytes.append(UInt8(ascii: "."))
            var tmp: [UInt8] = []
            var f = frac
            for _ in 0..<digits {
                tmp.append(UInt8(ascii: "0") + UInt8(f % 10))
                f /= 10
            }
            bytes.append(contentsOf: tmp.reversed())
        }
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separator()
        bytes.append(contentsOf: value ? [0x74, 0x72, 0x75, 0x65] : [0x66, 0x61, 0x6C, 0x73, 0x65])
    }

    /// Writes `null`.
    public mutating func null() {
        separator()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    /// Writes an event time as an RFC 3339 UTC string.
    public mutating func time(_ value: EventTime) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        value.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Ends a JSON-lines record.
    public mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
    }

    @inline(__always)
    private mutating func separator() {
        if pendingValueAfterKey {
            pendingValueAfterKey = false
            return
        }
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] {
            bytes.append(UInt8(ascii: ","))
        } else {
            needsComma[needsComma.count - 1] = true
        }
    }

    private mutating func appendInt(_ value: Int64) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while v > 0 {
                buf[n] = UInt8(ascii: "0") &+ UInt8(v % 10)
                v /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                bytes.append(buf[n])
            }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Escapes `value` as a JSON string. Swift `String`s are always valid Unicode, so only quoting and
    /// control characters need care here.
    private mutating func appendEscaped(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Bytes { utf8 in
            var runStart = 0
            var i = 0
            let n = utf8.count
            while i < n {
                let b = utf8[i]
                if b >= 0x20 && b != 0x22 && b != 0x5C && b != 0x7F && b != 0xC2 && b != 0xE2 {
                    i += 1
                    continue
                }
                // Line breaks that are not ASCII: the C1 controls (U+0080–U+009F, NEL among them) and the line
                // and paragraph separators. JSON allows them raw, but common line splitters (and JavaScript
                // before ES2019) break a line there, which would cut a record in two.
                if b == 0xC2 || b == 0xE2 {
                    let c1 = b == 0xC2 && i + 1 < n && utf8[i + 1] <= 0x9F
                    let separator =
                        b == 0xE2 && i + 2 < n && utf8[i + 1] == 0x80
                        && (utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9)
                    guard c1 || separator else {
                        i += 1
                        continue
                    }
                    if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                    if c1 {
                        bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                        bytes.append(JSONWriter.hex[Int(utf8[i + 1] >> 4)])
                        bytes.append(JSONWriter.hex[Int(utf8[i + 1] & 0xF)])
                        i += 2
                    } else {
                        bytes.append(contentsOf: Array("\\u202".utf8))
                        bytes.append(utf8[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                        i += 3
                    }
                    runStart = i
                    continue
                }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                switch b {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(JSONWriter.hex[Int(b >> 4)])
                    bytes.append(JSONWriter.hex[Int(b & 0xF)])
                }
                i += 1
                runStart = i
            }
            if runStart < n { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<n])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONWriter {
    /// Writes a floating-point value as ``double(_:decimals:)`` does, or `null` when there is none.
    public mutating func double(_ value: Double?, decimals: Int) {
        if let value { double(value, decimals: decimals) } else { null() }
    }

    /// Writes an event time as ``time(_:)`` does, or `null` when there is none.
    public mutating func time(_ value: EventTime?) {
        if let value { time(value) } else { null() }
    }

    /// Writes the key `name` and an object whose members `members` writes.
    public mutating func object(_ name: StaticString, _ members: (inout JSONWriter) -> Void) {
        key(name)
        beginObject()
        members(&self)
        endObject()
    }

    /// Writes the key `name` and an array of one object per element of `elements`, whose members `members`
    /// writes.
    public mutating func objects<Elements: Sequence>(
        _ name: StaticString, _ elements: Elements, _ members: (inout JSONWriter, Elements.Element) -> Void
    ) {
        key(name)
        beginArray()
        for element in elements {
            beginObject()
            members(&self, element)
            endObject()
        }
        endArray()
    }
}
