/// Text from logs made safe to show on a terminal or in a line-oriented log.
///
/// Account names, subjects, file names and label ids come from input an attacker may write. Printed raw, an
/// ANSI escape sequence in an account name can rewrite the operator's screen (hide lines, fake a result), a
/// carriage return can overwrite the line it is on, and bidirectional overrides can reorder what is shown.
/// ``escaped(_:)`` replaces every such character with a visible escape and leaves all other text as it is.
public enum TerminalText {
    /// `text` with control characters written as visible escapes: C0 controls (tab included; newline only
    /// when `keepingNewlines`), DEL and the C1 controls as `\x1b`-style hex, and the Unicode line and
    /// paragraph separators, bidirectional embeddings, overrides and isolates as `\u{202e}`-style escapes.
    /// A backslash is left alone, so the result is for people to read, not to parse back.
    ///
    /// - Complexity: O(n); returns `text` itself (no copy) when nothing needs escaping.
    public static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines: keepingNewlines) }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar, keepingNewlines: keepingNewlines) {
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ s: Unicode.Scalar, keepingNewlines: Bool) -> Bool {
        switch s.value {
        case 0x0A: return !keepingNewlines
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }
}
