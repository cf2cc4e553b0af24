import SendWatchTesting
import Testing

@testable import SendWatchDetect

/// `LureArtefact.hostArtefact(in:)` reads a token in place (issue 17); these tests hold it to the reading it
/// replaced, which copied the lower-cased host into an array first (`referenceHost`, kept here verbatim but
/// for the `domain:` prefix).
@Suite struct LureArtefactHostTests {
    /// The host reading before issue 17's cut, as it was.
    static func referenceHost(in token: UnsafeBufferPointer<UInt8>) -> String? {
        func find(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Int? {
            let n = needle.utf8CodeUnitCount
            guard bytes.count >= n else { return nil }
            return needle.withUTF8Buffer { pattern in
                (0...(bytes.count - n)).first { i in (0..<n).allSatisfy { bytes[i + $0] == pattern[$0] } }
            }
        }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
        var start = 0
        var bare = false
        if let scheme = find(token, "://") {
            start = scheme + 3
        } else if let at = token.lastIndex(of: UInt8(ascii: "@")) {
            start = at + 1
        } else {
            bare = true
        }
        var end = start
        while end < token.count, !"/:?#".utf8.contains(token[end]) { end += 1 }
        while end > start && token[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard end - start >= 4 && end - start <= 253 else { return nil }
        var host = [UInt8]()
        var lastDot = -1
        for k in start..<end {
            var b = token[k]
            if b >= 0x41 && b <= 0x5A { b |= 0x20 }
            guard isLetter(b) || isDigit(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") else { return nil }
            if b == UInt8(ascii: ".") {
                guard host.last != UInt8(ascii: "."), !host.isEmpty else { return nil }
                lastDot = host.count
            }
            host.append(b)
        }
        let tld = host.count - lastDot - 1
        guard lastDot > 0, (2...24).contains(tld), host[(lastDot + 1)...].allSatisfy(isLetter) else { return nil }
        if bare && !host.starts(with: "www.".utf8)
            && LureArtefact.fileExtensions.contains(where: { $0.elementsEqual(host[(lastDot + 1)...]) })
        {
            return nil
        }
        if host.starts(with: "www.".utf8) && host.count > 4 + 3 { host.removeFirst(4) }
        return "domain:" + String(decoding: host, as: UTF8.self)
    }

    static func check(_ token: [UInt8]) -> Bool {
        token.withUnsafeBufferPointer { t in
            LureArtefact.hostArtefact(in: t) == referenceHost(in: t)
        }
    }

    @Test(
        "Hosts, schemes, addresses, www, file names and malformed hosts read as before",
        arguments: [
            "https://WWW.Paypa1-Secure.com/login?x=1", "help@refund-desk.example.", "paypa1-secure.com/verify",
            "Q3-plan.pdf", "jaso-42621.DOCX", "photos.zip", "https://invoice.pdf/claim", "www.report.pdf",
            "WWW.REPORT.PDF", "www.a.bc", "www.ab.cd", "WwW.x.yz", "a..b.com", "-a.com", ".a.com", "a.com.", "a.com..",
            "a.b", "ab.c", "abc.d1", "x.abcdefghijklmnopqrstuvwx", "x.abcdefghijklmnopqrstuvwxy", "a@b@c.example",
            "ftp://x.example:21/p", "://x.example", "x://", "http://", "mailto:x@y.example", "a.example#frag",
            "a.example?q", "caf\u{E9}.example", "x.PDF", "https://x.PDF", "u@report.Pdf", "1.2.3.4", "host_name.com",
            "ex:ample.com", "://", "", "a", "www.", "www.x", "WWW.WWW.WWW.com",
        ])
    func cases(token: String) {
        #expect(Self.check(Array(token.utf8)))
    }

    @Test("Random tokens over the bytes a host reading branches on read as before")
    func random() {
        let alphabet = Array("aAwWxZpdfPDF09-.:/@?#_é".utf8) + [0x80, 0xFF]
        var generator = SplitMix64(seed: 17)
        for _ in 0..<50_000 {
            let length = Int.random(in: 0...24, using: &generator)
            var token: [UInt8] = []
            for _ in 0..<length { token.append(alphabet.randomElement(using: &generator)!) }
            // Seed common shapes so that valid hosts, schemes and file names are frequent.
            switch Int.random(in: 0..<6, using: &generator) {
            case 0: token = Array("www.".utf8) + token
            case 1: token = Array("https://".utf8) + token
            case 2: token += Array(".pdf".utf8)
            case 3: token += Array(".Com".utf8)
            default: break
            }
            #expect(Self.check(token), "\(token)")
        }
    }
}
