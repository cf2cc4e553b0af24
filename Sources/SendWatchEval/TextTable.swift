/// A plain-text table: columns padded to their widest cell, each column capped at a width (longer cells are
/// cut with `…`), so that a report fits a fixed line length.
struct TextTable {
    enum Alignment { case left, right }
    struct Column {
        var title: String
        var alignment: Alignment
        var maxWidth: Int
    }

    var columns: [Column]
    var rows: [[String]] = []
    var indent = "  "

    init(_ columns: [Column]) { self.columns = columns }

    mutating func add(_ cells: [String]) { rows.append(cells) }

    func render(into out: inout String) {
        var widths = columns.map { min($0.title.count, $0.maxWidth) }
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count {
                widths[i] = max(widths[i], min(cell.count, columns[i].maxWidth))
            }
        }
        func line(_ cells: [String]) {
            var parts: [String] = []
            for (i, column) in columns.enumerated() {
                var cell = i < cells.count ? cells[i] : ""
                if cell.count > column.maxWidth { cell = String(cell.prefix(max(0, column.maxWidth - 1))) + "…" }
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                parts.append(column.alignment == .left ? cell + pad : pad + cell)
            }
            var text = indent + parts.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            out += text + "\n"
        }
        line(columns.map(\.title))
        for row in rows { line(row) }
    }
}

/// Number formatting without Foundation formatters, so that output is the same on every platform.
enum Format {
    /// `value` rounded to `decimals` digits, always with that many digits, e.g. `0.950`.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "n/a" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e17 else { return String(value) }
        let n = Int64(scaled)
        let p = Int64(scale)
        var text = String(n / p)
        if decimals > 0 {
            let frac = String(n % p)
            text += "." + String(repeating: "0", count: decimals - frac.count) + frac
        }
        return (value < 0 && n != 0 ? "-" : "") + text
    }

    /// A ratio as `0.950`, or `n/a`.
    static func ratio(_ value: Double?) -> String { value.map { fixed($0, 3) } ?? "n/a" }

    /// A duration in seconds as `42.5s`, `4m12s` or `2h05m`, or `n/a`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "n/a" }
        let sign = seconds < 0 ? "-" : ""
        let s = abs(seconds)
        if s < 60 { return sign + fixed(s, 1) + "s" }
        let whole = Int64(s.rounded())
        if whole < 3600 { return sign + "\(whole / 60)m" + pad2(whole % 60) + "s" }
        guard whole < 1_000_000_000 else { return sign + fixed(s / 3600, 0) + "h" }
        return sign + "\(whole / 3600)h" + pad2(whole / 60 % 60) + "m"
    }

    static func percent(_ share: Double) -> String { fixed(share * 100, 1) + "%" }

    private static func pad2(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
