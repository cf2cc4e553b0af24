import Foundation
import SendWatchCore
import SendWatchSimulation
import Testing

/// The shape of a log line: the program (Postfix daemon) or Exim marker, then its `key=` fields in order,
/// with free text (subjects, quoted values, SMTP replies) removed. Simulated lines must only have shapes
/// that the real captures have.
enum LineShape {
    static func postfix(_ line: Substring) -> String? {
        // "Mmm dd HH:MM:SS host program[pid]: rest"
        let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard parts.count == 6, let bracket = parts[4].firstIndex(of: "[") else { return nil }
        // The daemon: `postfix/submission/smtpd` is an smtpd like `postfix/smtpd`.
        let program = parts[4][..<bracket].split(separator: "/").last ?? ""
        var rest = parts[5]
        // Drop a queue id.
        if let colon = rest.firstIndex(of: ":"), rest[..<colon].allSatisfy({ $0.isHexDigit || $0.isLetter }),
            rest.distance(from: rest.startIndex, to: colon) >= 10
        {
            rest = rest[rest.index(after: colon)...].drop { $0 == " " }
        }
        var shape = String(program) + " "
        if rest.hasPrefix("warning: header ") {
            // Keep the header name, drop its text up to the last " from <client>; ".
            let name = rest.dropFirst("warning: header ".count).prefix { $0 != ":" }
            guard let from = rest.ranges(of: " from unknown[").last else { return nil }
            shape += "warning: header \(name): " + keys(rest[from.upperBound...])
        } else if let paren = rest.firstIndex(of: "("), rest.contains("status=") {
            shape += keys(rest[..<paren])
        } else {
            // Words before the first key, without client names (`unknown[IP]`, `host[IP]`).
            let words = rest.prefix { $0 != "=" }.split(separator: " ").dropLast().filter { !$0.contains("[") }
                .joined(separator: " ")
            shape += words + " " + keys(rest)
        }
        return shape
    }

    static func exim(_ line: Substring) -> String? {
        // "YYYY-MM-DD HH:MM:SS [id] rest"
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard parts.count >= 3 else { return nil }
        var text = parts.count == 4 ? parts[2] + " " + parts[3] : parts[2]
        if parts[2].count == 16 && parts[2].dropFirst(6).first == "-" { text = parts.count == 4 ? parts[3] : "" }
        // Remove quoted values.
        var cleaned = ""
        var inQuote = false
        var escaped = false
        for c in text {
            if inQuote {
                if escaped {
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    inQuote = false
                }
                continue
            }
            if c == "\"" { inQuote = true }
            cleaned.append(c)
        }
        let marker = cleaned.split(separator: " ").first.map(String.init) ?? ""
        let head =
            ["<=", "=>", "->", "**", "==", "Completed", "X-Account-Id:", "Start", "End"].contains(marker)
            ? marker : "other"
        let body = cleaned.split(separator: ":").first.map { Substring($0) } ?? Substring(cleaned)
        return head + " " + keys(marker == "**" || marker == "==" ? body : Substring(cleaned))
    }

    /// The `key=` tokens of `text` in order (keys start a word and are letters, digits or `_`).
    static func keys(_ text: Substring) -> String {
        var out: [Substring] = []
        for word in text.split(separator: " ") {
            let w = word.drop { $0 == "(" || $0 == "," }
            guard let eq = w.firstIndex(of: "="), eq != w.startIndex,
                w[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else { continue }
            out.append(w[..<eq])
        }
        return out.joined(separator: ",")
    }
}

@Suite struct LineShapeTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test("Every simulated line has a shape the real capture has", arguments: [SimulationFormat.postfix, .exim])
    func shapesMatchCapture(format: SimulationFormat) throws {
        let capture = try Self.fixture(format == .postfix ? "postfix-capture-excerpt.log" : "exim-capture-excerpt.log")
        func shape(_ line: Substring) -> String? {
            format == .postfix ? LineShape.postfix(line) : LineShape.exim(line)
        }
        let real = Set(capture.split(separator: "\n").compactMap { shape($0) })
        let run = try simulate(smallConfiguration(format: format))
        let text = String(decoding: run.bytes, as: UTF8.self)
        var simulated: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let s = try #require(shape(line), "no shape: \(line)")
            simulated[s, default: 0] += 1
        }
        let unknown = simulated.keys.filter { !real.contains($0) }.sorted()
        #expect(unknown.isEmpty, "shapes not in the capture: \(unknown)")
        #expect(simulated.count >= 8)
    }
}
