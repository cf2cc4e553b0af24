import SendWatchCore
public import SendWatchFormats
import Yams

/// Everything a SendWatch configuration file can say, with every default in one place.
///
/// The file is YAML. Every key is optional; a key SendWatch does not know, or a value of the wrong kind, is
/// an error that names the key (see ``Configuration/load(yaml:)``). `sendwatch config defaults` prints
/// ``Configuration/defaultsYAML``, which is the documentation of every key.
public struct Configuration: Sendable {
    /// `input.format`: `auto` (recognise from the first lines of each input), `postfix`, `exim` or `jsonl`.
    /// Default `auto`.
    public var format: LogFormat?
    /// `input.max_line_bytes`: the longest line kept, in bytes; a longer line is skipped up to its newline and
    /// counted as `line_too_long`. Default 65,536.
    public var maxLineBytes: Int
    /// `input.timezone`: the zone of timestamps that carry no offset (classic syslog, Exim, `postlogd`).
    /// `UTC`, a fixed offset like `+01:00`, or an IANA name like `Europe/Berlin`. Default `UTC`.
    public var timezone: String
    /// `input.year`: the year of year-less syslog timestamps. Default: none, meaning each file's modification
    /// time decides (and, for stdin, the current date, with a warning).
    public var year: Int?
    /// `accounts.account_header`, `accounts.template_header`, `messages.max_open`, `messages.open_timeout`.
    public var formats: FormatConfiguration
    /// `jsonl.fields.<name>`: dotted paths of the JSON-lines fields, keyed by the default schema's names.
    public var jsonFields: [String: String]

    /// The names `jsonl.fields` accepts, in documentation order, with their default paths.
    public static let jsonFieldDefaults: [(name: String, path: String)] = [
        ("ts", "ts"), ("account", "account"), ("account_created", "account_created"), ("sender", "sender"),
        ("to", "to"), ("subject", "subject"), ("template_id", "template_id"), ("message_id", "message_id"),
        ("client_ip", "client_ip"), ("host", "host"), ("status", "status"),
    ]

    /// The defaults.
    public init() {
        format = nil
        maxLineBytes = 65_536
        timezone = "UTC"
        year = nil
        formats = FormatConfiguration()
        jsonFields = Dictionary(uniqueKeysWithValues: Configuration.jsonFieldDefaults.map { ($0.name, $0.path) })
    }

    /// The default configuration as a commented YAML file: what `sendwatch config defaults` prints.
    public static var defaultsYAML: String {
        var lines: [String] = [
            "# SendWatch configuration. Every key is optional; the values shown are the defaults.",
            "# Durations: 45s, 10m, 1h, 7d, 1w, combinations like 1h30m, or a number of seconds.",
            "",
            "input:",
            "  # auto (recognise each input from its first lines) | postfix | exim | jsonl",
            "  format: auto",
            "  # Longest line kept, in bytes. Longer lines are skipped to their newline and counted (line_too_long).",
            "  max_line_bytes: 65536",
            "  # Zone of timestamps without an offset (classic syslog, postlogd, Exim): UTC, +01:00, Europe/Berlin.",
            "  timezone: UTC",
            "  # Year of year-less syslog timestamps. null: each file's modification time decides; for stdin the",
            "  # current date is used and a warning printed.",
            "  year: null",
            "",
            "accounts:",
            "  # Header whose value is the account id, when header_checks (Postfix) or an ACL logwrite (Exim) logs it.",
            "  # Account = this header if logged, else the authenticated (SASL) user, else the envelope sender.",
            "  account_header: X-Account-Id",
            "  # Header whose value is an explicit template id.",
            "  template_header: X-Template-Id",
            "",
            "messages:",
            "  # Most messages kept open while their lines are joined (Postfix queue ids, Exim message ids).",
            "  # When full, the least recently seen message is dropped and counted (evicted).",
            "  max_open: 200000",
            "  # A message with no line for this long (event time) is dropped and counted as incomplete.",
            "  open_timeout: 6d",
            "",
            "jsonl:",
            "  # Dotted paths of the fields in JSON-lines input; a numeric component indexes an array",
            "  # (mail.destination.0); null leaves an optional field unmapped. For Amazon SES records, e.g.:",
            "  # ts: mail.timestamp, to: mail.destination, subject: mail.commonHeaders.subject, sender: mail.source",
            "  fields:",
        ]
        for (name, path) in jsonFieldDefaults {
            lines.append("    \(name): \(path)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The zone parsed from ``timezone``.
    public var localTimeZone: LocalTimeZone? { LocalTimeZone(parsing: timezone) }

    /// Loads a configuration from YAML text, starting from the defaults.
    ///
    /// - Throws: ``ConfigurationError`` listing every unknown key and bad value, each by its dotted name.
    public static func load(yaml text: String) throws(ConfigurationError) -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(problems: ["not valid YAML: \(error)"])
        }
        var config = Configuration()
        var reader = NodeReader()
        if let root {
            reader.apply(root, to: &config)
        }
        if config.localTimeZone == nil {
            reader.problems.append("input.timezone: '\(config.timezone)' is not UTC, an offset like +01:00, or a known zone name")
        }
        guard reader.problems.isEmpty else { throw ConfigurationError(problems: reader.problems) }
        return config
    }
}

/// A configuration file that could not be used; every problem names its key.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// One line per problem, e.g. `input.max_line_bytes: expected a positive integer, got 'ten'`.
    public var problems: [String]
    public var description: String { "configuration: " + problems.joined(separator: "; ") }
}

/// Walks the YAML tree, applying known keys and collecting every problem rather than stopping at the first.
private struct NodeReader {
    var problems: [String] = []

    mutating func apply(_ root: Node, to config: inout Configuration) {
        guard let top = mapping(root, at: "") else { return }
        for (key, value) in top {
            switch key {
            case "input":
                guard let m = mapping(value, at: "input") else { continue }
                for (k, v) in m {
                    let name = "input.\(k)"
                    switch k {
                    case "format":
                        guard let s = scalar(v, at: name) else { continue }
                        if s == "auto" {
                            config.format = nil
                        } else if let f = LogFormat(rawValue: s) {
                            config.format = f
                        } else {
                            problems.append("\(name): expected auto, postfix, exim or jsonl, got '\(s)'")
                        }
                    case "max_line_bytes":
                        if let n = positiveInt(v, at: name, max: 64 * 1024 * 1024) { config.maxLineBytes = n }
                    case "timezone":
                        if let s = scalar(v, at: name) { config.timezone = s }
                    case "year":
                        if isNull(v) {
                            config.year = nil
                        } else if let n = positiveInt(v, at: name, max: 2200) {
                            if n < 1990 { problems.append("\(name): \(n) is before 1990") } else { config.year = n }
                        }
                    default: unknown(name)
                    }
                }
            case "accounts":
                guard let m = mapping(value, at: "accounts") else { continue }
                for (k, v) in m {
                    let name = "accounts.\(k)"
                    switch k {
                    case "account_header": if let s = headerName(v, at: name) { config.formats.accountHeader = s }
                    case "template_header": if let s = headerName(v, at: name) { config.formats.templateHeader = s }
                    default: unknown(name)
                    }
                }
            case "messages":
                guard let m = mapping(value, at: "messages") else { continue }
                for (k, v) in m {
                    let name = "messages.\(k)"
                    switch k {
                    case "max_open": if let n = positiveInt(v, at: name, max: 50_000_000) { config.formats.maxOpenMessages = n }
                    case "open_timeout": if let d = duration(v, at: name) { config.formats.openMessageTimeoutSeconds = d }
                    default: unknown(name)
                    }
                }
            case "jsonl":
                guard let m = mapping(value, at: "jsonl") else { continue }
                for (k, v) in m {
                    guard k == "fields" else {
                        unknown("jsonl.\(k)")
                        continue
                    }
                    guard let fields = mapping(v, at: "jsonl.fields") else { continue }
                    let known = Set(Configuration.jsonFieldDefaults.map(\.name))
                    for (fk, fv) in fields {
                        let name = "jsonl.fields.\(fk)"
                        guard known.contains(fk) else {
                            unknown(name)
                            continue
                        }
                        if isNull(fv) || fv.string == "" {
                            if fk == "ts" || fk == "to" {
                                problems.append("\(name): a send needs a time and recipients; this field cannot be unmapped")
                            } else {
                                config.jsonFields[fk] = ""
                            }
                            continue
                        }
                        guard let s = scalar(fv, at: name) else { continue }
                        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
                        if s.isEmpty || parts.contains(where: \.isEmpty) {
                            problems.append("\(name): '\(s)' is not a dotted path like mail.commonHeaders.subject")
                        } else {
                            config.jsonFields[fk] = s
                        }
                    }
                }
            default:
                unknown(key)
            }
        }
    }

    mutating func unknown(_ name: String) {
        problems.append("\(name): unknown key")
    }

    mutating func mapping(_ node: Node, at name: String) -> [(String, Node)]? {
        if isNull(node) { return [] }
        guard let m = node.mapping else {
            problems.append("\(name.isEmpty ? "top level" : name): expected a mapping of keys")
            return nil
        }
        var out: [(String, Node)] = []
        for (k, v) in m {
            guard let ks = k.string else {
                problems.append("\(name): a key that is not a string")
                continue
            }
            // Yams itself rejects a key given twice in one mapping ("duplicated key").
            out.append((ks, v))
        }
        return out
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return s.string == "null" || s.string == "~" || (s.string.isEmpty && s.style == .plain) }
        return false
    }

    mutating func scalar(_ node: Node, at name: String) -> String? {
        guard case .scalar(let s) = node else {
            problems.append("\(name): expected a single value")
            return nil
        }
        return s.string
    }

    mutating func positiveInt(_ node: Node, at name: String, max: Int) -> Int? {
        guard let s = scalar(node, at: name) else { return nil }
        guard let n = Int(s.replacingUnderscores()), n > 0, n <= max else {
            problems.append("\(name): expected an integer from 1 to \(max), got '\(s)'")
            return nil
        }
        return n
    }

    mutating func duration(_ node: Node, at name: String) -> Int64? {
        guard let s = scalar(node, at: name) else { return nil }
        guard let d = DurationText.seconds(s), d > 0 else {
            problems.append("\(name): expected a duration like 30m, 6h or 7d, got '\(s)'")
            return nil
        }
        return d
    }

    mutating func headerName(_ node: Node, at name: String) -> String? {
        guard let s = scalar(node, at: name) else { return nil }
        let ok = !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
        guard ok else {
            problems.append("\(name): '\(s)' is not a header field name")
            return nil
        }
        return s
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
