import SendWatchCore
public import SendWatchDetect
public import SendWatchFormats
import Yams

/// Everything a SendWatch configuration file can say, with every default in one place.
///
/// The file is YAML. Every key is optional; a key SendWatch does not know, or a value of the wrong kind or out
/// of range, is an error that names the key (see ``Configuration/load(yaml:)``). Each key is declared once
/// (``schema``), next to the component that uses it; `sendwatch config defaults` prints ``defaultsYAML``, made
/// from those declarations, which is the documentation of every key.
public struct Configuration: Sendable {
    /// `input.format`: `auto` (recognise from the first lines of each input), `postfix`, `exim` or `jsonl`.
    /// Default `auto`.
    public var format: LogFormat?
    /// `input.max_line_bytes`: the longest line kept, in bytes; a longer line is skipped up to its newline and
    /// counted as `line_too_long`. Default 65,536.
    public var maxLineBytes: Int
    /// `input.timezone`: the zone of timestamps that carry no offset (classic syslog, Exim, `postlogd`).
    /// `local` (the system's zone: `TZ`, else `/etc/localtime`, else UTC; ``LocalTimeZone/system(environment:)``),
    /// `UTC`, a fixed offset like `+01:00`, or an IANA name like `Europe/Berlin`. Default `local`: the zone the
    /// server's own logs are written in; a log copied from a server in another zone needs its zone named.
    public var timezone: String
    /// `input.year`: the year of year-less syslog timestamps. Default: none, meaning each file's modification
    /// time decides (and, for stdin, the current date, with a warning).
    public var year: Int?
    /// `accounts.account_header`, `accounts.template_header`, `messages.max_open`, `messages.open_timeout`.
    public var formats: FormatConfiguration
    /// `jsonl.fields.<name>`: dotted paths of the JSON-lines fields, keyed by the default schema's names; an
    /// empty path leaves the field unmapped.
    public var jsonFields: [String: String]
    /// `detect.*`, `alerts.*`, `templates.*`, `rules.*`: the detection stage.
    public var detection: DetectionConfiguration
    /// `policy.*`: what the Postfix policy service of `tail --policy` answers.
    public var policy: PolicyConfiguration

    /// The names `jsonl.fields` accepts, in documentation order, with their docs. Each name's default path is the
    /// name itself (the top-level key of that name).
    public static let jsonFieldNames: [(name: String, doc: String)] = [
        ("ts", "The send's time: RFC 3339, or seconds since the epoch."),
        ("account", "The sending account."),
        ("account_created", "When the account was created (RFC 3339 or epoch seconds)."),
        ("sender", "The envelope sender."),
        ("to", "The recipient, or an array of recipients."),
        ("subject", "The subject."),
        ("template_id", "An explicit template id."),
        ("message_id", "The Message-ID."),
        ("client_ip", "The submitting client's address."),
        ("host", "The mail server."),
        ("status", "The delivery status."),
        ("login", "The login that submitted the send (events' login, alerts' submitters)."),
        ("subject_cut", "true when the log cut the subject (as sendwatch events writes it): mined as a prefix."),
    ]

    /// The defaults.
    public init() {
        format = nil
        maxLineBytes = 65_536
        timezone = "local"
        year = nil
        formats = FormatConfiguration()
        jsonFields = Dictionary(uniqueKeysWithValues: Configuration.jsonFieldNames.map { ($0.name, $0.name) })
        detection = DetectionConfiguration()
        policy = PolicyConfiguration()
    }

    /// The default configuration as a commented YAML file: what `sendwatch config defaults` prints.
    public static var defaultsYAML: String { schema.yaml(of: Configuration()) }

    /// ``defaultsYAML`` as the fenced block of the configuration reference (`docs/configuration.md`, between
    /// its `GENERATED CONFIG` markers): what `sendwatch config defaults --markdown` prints.
    public static var defaultsMarkdown: String { "```yaml\n" + defaultsYAML + "```\n" }

    /// Sets the key with the dotted name `key` (`detect.warmup`) from text, as the file would: command-line
    /// flags that stand for a key go through the key's declaration, so they accept what the file accepts.
    ///
    /// - Returns: The problem, starting with the key's name, or `nil` when the value was applied.
    public mutating func set(_ key: String, to text: String) -> String? {
        guard let declared = Self.schema.key(named: key) else { return "\(key): unknown key" }
        return declared.apply(.text(text), to: &self).map { "\(key): \($0)" }
    }

    /// The zone parsed from ``timezone``.
    public var localTimeZone: LocalTimeZone? { LocalTimeZone(parsing: timezone) }

    /// A YAML parser's message on one line: Yams writes the problem over several lines and then quotes the
    /// offending line with a `^` under the column; the position is already in the message, so the quote (which
    /// may be an empty line) and the caret are dropped before blank lines are, and the rest joined with `: `.
    static func oneLine(yamlError text: String) -> String {
        var raw = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let last = raw.last, last.allSatisfy({ $0 == " " }) { raw.removeLast() }
        if raw.count >= 3, let caret = raw.last, caret.contains("^"), caret.allSatisfy({ $0 == " " || $0 == "^" }) {
            raw.removeLast(2)
        }
        let lines = raw.map { line in
            String(line.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }.filter { !$0.isEmpty }
        return lines.map { $0.hasSuffix(":") ? String($0.dropLast()) : $0 }.joined(separator: ": ")
    }

    /// Loads a configuration from YAML text, starting from the defaults. `config check` and every command's
    /// start-up call this, so they accept exactly the same files.
    ///
    /// - Throws: ``ConfigurationError`` listing every unknown key and bad value, each by its dotted name.
    public static func load(yaml text: String) throws(ConfigurationError) -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(problems: ["not valid YAML: " + Self.oneLine(yamlError: "\(error)")])
        }
        var config = Configuration()
        var problems: [String] = []
        if let root {
            let tree = ConfigNode(root, at: "", problems: &problems)
            problems += schema.apply(tree, to: &config)
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return config
    }
}

/// A configuration file that could not be used; every problem names its key.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// One line per problem, e.g. `input.max_line_bytes: expected an integer from 1 to 67108864, got 'ten'`.
    public var problems: [String]
    public var description: String { "configuration: " + problems.joined(separator: "; ") }
}

extension ConfigNode {
    /// The tree of a YAML node; a mapping key that is not a string is a problem, and its entry is left out.
    /// (Yams itself rejects a key given twice in one mapping: "duplicated key".)
    init(_ node: Node, at name: String, problems: inout [String]) {
        switch node {
        case .scalar(let s):
            let isNull = s.string == "null" || s.string == "~" || (s.string.isEmpty && s.style == .plain)
            self = .scalar(isNull ? .null : .text(s.string))
        case .mapping(let m):
            var entries: [(key: String, value: ConfigNode)] = []
            for (k, v) in m {
                guard let key = k.string else {
                    problems.append("\(name.isEmpty ? "top level" : name): a key that is not a string")
                    continue
                }
                let path = name.isEmpty ? key : name + "." + key
                entries.append((key, ConfigNode(v, at: path, problems: &problems)))
            }
            self = .mapping(entries)
        default:
            self = .other
        }
    }
}

extension Configuration {
    /// The dotted names of the keys whose values differ between this configuration and `other`, in the order
    /// the configuration file lists them (`detect.warmup`, `rules.template_swarm.window`).
    ///
    /// Both are rendered as the configuration file would show them (``schema``), so two values that the file
    /// writes the same (`1h` and `3600`) are equal.
    ///
    /// - Complexity: O(keys).
    public func changedKeys(comparedTo other: Configuration) -> [String] {
        let mine = Self.keyValues(Self.schema.yaml(of: self))
        let theirs = Dictionary(Self.keyValues(Self.schema.yaml(of: other)), uniquingKeysWith: { a, _ in a })
        return mine.filter { theirs[$0.key] != $0.value }.map(\.key)
    }

    /// The `key: value` lines of a rendered configuration, keyed by dotted name; comments and section lines
    /// are skipped.
    private static func keyValues(_ yaml: String) -> [(key: String, value: String)] {
        var path: [(indent: Int, name: String)] = []
        var out: [(key: String, value: String)] = []
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: true) {
            let indent = line.prefix { $0 == " " }.count
            let text = line.dropFirst(indent)
            guard !text.hasPrefix("#"), let colon = text.firstIndex(of: ":") else { continue }
            while let last = path.last, last.indent >= indent { path.removeLast() }
            let name = String(text[..<colon])
            let rest = text[text.index(after: colon)...].drop { $0 == " " }
            let value = String(rest.reversed().drop { $0 == " " }.reversed())
            let dotted = (path.map(\.name) + [name]).joined(separator: ".")
            if value.isEmpty || value.hasPrefix("#") {
                path.append((indent, name))
            } else {
                out.append((dotted, value))
            }
        }
        return out
    }
}
