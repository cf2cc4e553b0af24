/// The fields of an Exim `<=` line that events use, as byte ranges into the line.
///
/// Exim writes `KEY=value` fields separated by single spaces; `T=`, `DN=` and `C=` values are quoted with
/// escapes, `H=` spans several space-separated parts (`host (helo) [ip]:port`). The list of recipients
/// (`for a b c`, `+received_recipients`) ends the fields.
struct EximArrivalFields {
    var clientIP: Range<Int>?
    var hasHost = false
    var localUser: Range<Int>?
    var authenticatedID: Range<Int>?
    var messageID: Range<Int>?
    /// The subject's escaped text, without the quotes.
    var subject: Range<Int>?
    /// `R=` on an arrival names the message a bounce or delay warning is about.
    var hasReference = false

    /// Reads the fields after the sender, starting at `start` (the space after the sender).
    ///
    /// - Complexity: O(length of the line).
    mutating func read(_ p: UnsafeRawBufferPointer, from start: Int) {
        let n = p.count
        var j = start
        while j < n {
            if p[j] == 0x20 {
                j += 1
                continue
            }
            let tokenEnd = Bytes.find(0x20, in: p, from: j) ?? n
            if tokenEnd - j == 3 && Bytes.hasPrefix("for", in: p, at: j) { return }
            guard let eq = Bytes.find(UInt8(ascii: "="), in: p, from: j, to: tokenEnd), eq > j else {
                j = tokenEnd
                continue
            }
            let key = j..<eq
            let v = eq + 1
            if v < n && p[v] == UInt8(ascii: "\"") {
                let close = EximQuotedText.closingQuote(p, open: v, end: n) ?? n
                if Bytes.equals("T", in: p, key) { subject = v + 1..<close }
                j = close + 1
                continue
            }
            if Bytes.equals("H", in: p, key) {
                hasHost = true
                let (ip, end) = Self.readHost(p, from: v)
                clientIP = ip
                j = end
                continue
            }
            let value = v..<tokenEnd
            switch eq - j {
            case 1:
                switch p[j] {
                case UInt8(ascii: "U"):
                    if !value.isEmpty { localUser = value }
                case UInt8(ascii: "A"):
                    if let colon = Bytes.find(UInt8(ascii: ":"), in: p, from: v, to: tokenEnd), colon + 1 < tokenEnd {
                        authenticatedID = colon + 1..<tokenEnd
                    }
                case UInt8(ascii: "R"):
                    hasReference = true
                default:
                    break
                }
            case 2:
                if Bytes.equals("id", in: p, key) {
                    var m = value
                    if m.count >= 2, p[m.lowerBound] == UInt8(ascii: "<"), p[m.upperBound - 1] == UInt8(ascii: ">") {
                        m = m.lowerBound + 1..<m.upperBound - 1
                    }
                    if !m.isEmpty { messageID = m }
                }
            default:
                break
            }
            j = tokenEnd
        }
    }

    /// Reads an `H=` value: `[ip]:port`, `(helo) [ip]:port`, `host (helo) [ip]:port` or `host [ip]`.
    ///
    /// The HELO name in parentheses is client-chosen and may itself look like `[1.2.3.4]`, so it is skipped
    /// up to `") ["`, and the address is the bracketed part that follows.
    ///
    /// - Returns: the address inside the brackets (if any) and the index after the field.
    static func readHost(_ p: UnsafeRawBufferPointer, from start: Int) -> (Range<Int>?, Int) {
        let n = p.count
        var j = start
        var parts = 0
        while j < n && parts < 3 {
            parts += 1
            switch p[j] {
            case UInt8(ascii: "["):
                guard let close = Bytes.find(UInt8(ascii: "]"), in: p, from: j + 1) else { return (nil, n) }
                let end = Bytes.find(0x20, in: p, from: close) ?? n
                return (j + 1..<close, end)
            case UInt8(ascii: "("):
                if let hit = Bytes.find(") [", in: p, from: j) {
                    j = hit + 2
                } else {
                    return (nil, Bytes.find(0x20, in: p, from: j) ?? n)
                }
            default:
                let end = Bytes.find(0x20, in: p, from: j) ?? n
                guard end + 1 < n, p[end + 1] == UInt8(ascii: "(") || p[end + 1] == UInt8(ascii: "[") else {
                    return (nil, end)
                }
                j = end + 1
            }
        }
        return (nil, j)
    }
}

/// The parts of an Exim delivery line (`=>`, `->`, `*>`, `**`, `==`) that events use.
///
/// Layout: `ADDRESS [(parent)...] [<original>][:] [F=<sender>] KEY=value ... [: error text]`. The recipient
/// is the original address in angle brackets when present (local deliveries, pipes, files, redirects,
/// `:blackhole:`), else the delivered address. `F=` is only believed as the first field after the address:
/// later text may be a remote server's error message, which anyone can make contain `F=<...>`.
struct EximDeliveryFields {
    /// The delivered address as logged (`:blackhole:`, `|command`, `/file`, `user@domain`).
    var address: Range<Int>
    /// The recipient events use.
    var recipient: Range<Int>
    /// The envelope sender without brackets (empty for `F=<>`), when logged.
    var sender: Range<Int>?

    /// Reads the fields starting at the address. `nil` when there is no address.
    ///
    /// - Complexity: O(length of the address part).
    init?(_ p: UnsafeRawBufferPointer, from start: Int) {
        let n = p.count
        guard start < n, p[start] != 0x20 else { return nil }
        var addrEnd: Int
        if p[start] == UInt8(ascii: "\""), let q = Bytes.find(UInt8(ascii: "\""), in: p, from: start + 1) {
            // A quoted local part may contain spaces: `"john smith"@example.com`.
            addrEnd = Bytes.find(0x20, in: p, from: q) ?? n
        } else {
            addrEnd = Bytes.find(0x20, in: p, from: start) ?? n
        }
        var k = addrEnd
        var original: Range<Int>?
        if p[start] == UInt8(ascii: "|"), let lt = Bytes.find(" <", in: p, from: start),
            let gt = Bytes.find(UInt8(ascii: ">"), in: p, from: lt + 2),
            gt + 1 == n || p[gt + 1] == 0x20 || p[gt + 1] == UInt8(ascii: ":")
        {
            // A pipe command may contain spaces: the original address is the first `<...>` after it.
            addrEnd = lt
            original = lt + 2..<gt
            k = gt + 1
        }
        // `** addr: reason`, but not the colon that ends `:blackhole:` / `:fail:`.
        if addrEnd > start + 1 && p[addrEnd - 1] == UInt8(ascii: ":") && p[start] != UInt8(ascii: ":") {
            addrEnd -= 1
        }
        guard addrEnd > start else { return nil }
        address = start..<addrEnd
        while original == nil, k + 1 < n, p[k] == 0x20 {
            let t = k + 1
            if p[t] == UInt8(ascii: "("), let close = Bytes.find(UInt8(ascii: ")"), in: p, from: t) {
                k = close + 1
            } else if p[t] == UInt8(ascii: "<"), let close = Bytes.find(UInt8(ascii: ">"), in: p, from: t) {
                original = t + 1..<close
                k = close + 1
            } else {
                break
            }
        }
        if k < n && p[k] == UInt8(ascii: ":") { k += 1 }
        if let o = original, !o.isEmpty { recipient = o } else { recipient = address }
        if k + 4 <= n, p[k] == 0x20, Bytes.hasPrefix("F=<", in: p, at: k + 1),
            let gt = Bytes.find(UInt8(ascii: ">"), in: p, from: k + 4)
        {
            sender = k + 4..<gt
        }
    }
}
