import SendWatchCore
public import SendWatchDetect
public import SendWatchFormats
import SendWatchTemplates
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
    /// `detect.*`, `alerts.*`, `templates.*`, `rules.*`: the detection stage.
    public var detection: DetectionConfiguration

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
        detection = DetectionConfiguration()
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
        let d = DetectionConfiguration()
        let m = d.miner
        let dur = DurationText.format
        lines += [
            "",
            "detect:",
            "  # Accounts first seen within this long after the first event count as established.",
            "  warmup: \(dur(d.ages.warmupSeconds))",
            "  # An account younger than this (creation time, else first seen) is young.",
            "  new_account_age: \(dur(d.ages.newAccountAgeSeconds))",
            "  # Events further than this behind the newest event are dropped and counted (late_events).",
            "  allowed_lateness: \(dur(d.allowedLatenessSeconds))",
            "  # An event further ahead of the newest event than this moves event time only when the next events",
            "  # agree (a gap in the logs); a lone one (a broken clock, a hostile timestamp) is dropped and counted.",
            "  max_time_jump: \(dur(d.maxTimeJumpSeconds))",
            "  # Memory for the detection tables, in MiB; at the bound the least recently updated key is evicted.",
            "  memory_budget_mb: \(d.memoryBudgetBytes >> 20)",
            "  # Accounts in the first-seen table; evicted established accounts are remembered in a Bloom filter.",
            "  max_tracked_accounts: \(d.ages.maxTrackedAccounts)",
            "  # Most accounts listed in one alert record (accounts_total has the full number).",
            "  max_alert_accounts: \(d.maxAlertAccounts)",
            "",
            "alerts:",
            "  # An alert with no new evidence for this long is closed.",
            "  cooldown: \(dur(d.lifecycle.cooldownSeconds))",
            "  # Least time between two updates of an alert, unless it grew by growth_factor or its severity rose.",
            "  min_update_interval: \(dur(d.lifecycle.minUpdateIntervalSeconds))",
            "  growth_factor: \(format(d.lifecycle.growthFactor))",
            "  # Most alerts open at once; beyond, the quietest is closed early.",
            "  max_open: \(d.lifecycle.maxOpenAlerts)",
            "",
            "templates:",
            "  # Subject template miner (used when no template header or template_id is logged).",
            "  max_templates: \(m.maxTemplates)",
            "  # Share of a template's fixed words a subject must contain, in order, to join it.",
            "  similarity: \(format(m.similarity))",
            "  max_tokens: \(m.maxTokens)",
            "  max_candidates: \(m.maxCandidates)",
            "  max_postings_per_token: \(m.maxPostingsPerToken)",
            "  cache_size: \(m.cacheSize)",
            "  max_slot_bytes: \(m.maxSlotBytes)",
            "",
            "rules:",
            "  young_account_burst:     # one young account sends to many recipients",
            "    enabled: \(d.burst.enabled)",
            "    window: \(dur(d.burst.windowSeconds))",
            "    min_recipients: \(d.burst.minRecipients)",
            "    long_window: \(dur(d.burst.longWindowSeconds))",
            "    long_min_recipients: \(d.burst.longMinRecipients)",
            "  template_swarm:          # many young accounts with spread recipients use one template",
            "    enabled: \(d.swarm.enabled)",
            "    window: \(dur(d.swarm.windowSeconds))",
            "    min_young_accounts: \(d.swarm.minYoungAccounts)",
            "    baseline_factor: \(format(d.swarm.baselineFactor))",
            "    baseline_sigmas: \(format(d.swarm.baselineSigmas))",
            "    baseline_half_life_windows: \(format(d.swarm.baselineHalfLifeWindows))",
            "    # An account counts for a template only when this share of its events use it.",
            "    min_template_share: \(format((d.swarm.minTemplateShare * 1000).rounded() / 1000))",
            "  slot_content:            # young accounts put URLs, phone numbers, money ... into a template slot",
            "    enabled: \(d.slots.enabled)",
            "    window: \(dur(d.slots.windowSeconds))",
            "    min_young_accounts: \(d.slots.minYoungAccounts)",
            "    min_score: \(format(d.slots.minScore))",
            "  recipient_fanin:         # one recipient or domain receives from many young accounts",
            "    enabled: \(d.fanIn.enabled)",
            "    window: \(dur(d.fanIn.windowSeconds))",
            "    min_young_accounts_per_recipient: \(d.fanIn.minYoungAccountsPerRecipient)",
            "    # 0 = off; on webmail-heavy traffic legitimate new accounts alone reach any number per domain.",
            "    min_young_accounts_per_domain: \(d.fanIn.minYoungAccountsPerDomain)",
            "  account_rate:            # the naive per-account rate limit, for comparison",
            "    enabled: \(d.accountRate.enabled)",
            "    window: \(dur(d.accountRate.windowSeconds))",
            "    limit: \(d.accountRate.limit)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
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
            case "detect":
                guard let m = mapping(value, at: "detect") else { continue }
                for (k, v) in m {
                    let name = "detect.\(k)"
                    switch k {
                    case "warmup": if let d = duration(v, at: name, allowZero: true) { config.detection.ages.warmupSeconds = d }
                    case "new_account_age": if let d = duration(v, at: name) { config.detection.ages.newAccountAgeSeconds = d }
                    case "allowed_lateness":
                        if let d = duration(v, at: name, allowZero: true) { config.detection.allowedLatenessSeconds = d }
                    case "max_time_jump":
                        if let d = duration(v, at: name) { config.detection.maxTimeJumpSeconds = d }
                    case "memory_budget_mb":
                        if let n = positiveInt(v, at: name, max: 1 << 20) { config.detection.memoryBudgetBytes = n << 20 }
                    case "max_tracked_accounts":
                        if let n = positiveInt(v, at: name, max: 500_000_000) { config.detection.ages.maxTrackedAccounts = n }
                    case "max_alert_accounts":
                        if let n = positiveInt(v, at: name, max: 1_000_000) {
                            if n < 1000 { problems.append("\(name): at least 1000, got \(n)") } else { config.detection.maxAlertAccounts = n }
                        }
                    default: unknown(name)
                    }
                }
            case "alerts":
                guard let m = mapping(value, at: "alerts") else { continue }
                for (k, v) in m {
                    let name = "alerts.\(k)"
                    switch k {
                    case "cooldown": if let d = duration(v, at: name) { config.detection.lifecycle.cooldownSeconds = d }
                    case "min_update_interval":
                        if let d = duration(v, at: name, allowZero: true) { config.detection.lifecycle.minUpdateIntervalSeconds = d }
                    case "growth_factor":
                        if let x = number(v, at: name, min: 1.01, max: 1000) { config.detection.lifecycle.growthFactor = x }
                    case "max_open": if let n = positiveInt(v, at: name, max: 10_000_000) { config.detection.lifecycle.maxOpenAlerts = n }
                    default: unknown(name)
                    }
                }
            case "templates":
                guard let m = mapping(value, at: "templates") else { continue }
                for (k, v) in m {
                    let name = "templates.\(k)"
                    switch k {
                    case "max_templates": if let n = positiveInt(v, at: name, max: 10_000_000) { config.detection.miner.maxTemplates = n }
                    case "similarity": if let x = number(v, at: name, min: 0.05, max: 1) { config.detection.miner.similarity = x }
                    case "max_tokens":
                        if let n = positiveInt(v, at: name, max: 1024) {
                            if n < 2 { problems.append("\(name): expected an integer from 2 to 1024, got '\(n)'") } else {
                                config.detection.miner.maxTokens = n
                            }
                        }
                    case "max_candidates": if let n = positiveInt(v, at: name, max: 10_000) { config.detection.miner.maxCandidates = n }
                    case "max_postings_per_token":
                        if let n = positiveInt(v, at: name, max: 10_000_000) { config.detection.miner.maxPostingsPerToken = n }
                    case "cache_size": if let n = positiveInt(v, at: name, max: 100_000_000) { config.detection.miner.cacheSize = n }
                    case "max_slot_bytes": if let n = positiveInt(v, at: name, max: 1 << 20) { config.detection.miner.maxSlotBytes = n }
                    default: unknown(name)
                    }
                }
                for p in config.detection.miner.problems() { problems.append("templates: \(p)") }
            case "rules":
                guard let m = mapping(value, at: "rules") else { continue }
                for (rule, body) in m {
                    let base = "rules.\(rule)"
                    guard let fields = mapping(body, at: base) else { continue }
                    for (k, v) in fields {
                        let name = "\(base).\(k)"
                        switch (rule, k) {
                        case ("young_account_burst", "enabled"): if let b = bool(v, at: name) { config.detection.burst.enabled = b }
                        case ("young_account_burst", "window"): if let d = duration(v, at: name) { config.detection.burst.windowSeconds = d }
                        case ("young_account_burst", "min_recipients"):
                            if let n = positiveInt(v, at: name, max: 100_000_000) { config.detection.burst.minRecipients = n }
                        case ("young_account_burst", "long_window"):
                            if let d = duration(v, at: name) { config.detection.burst.longWindowSeconds = d }
                        case ("young_account_burst", "long_min_recipients"):
                            if let n = positiveInt(v, at: name, max: 100_000_000) { config.detection.burst.longMinRecipients = n }
                        case ("template_swarm", "enabled"): if let b = bool(v, at: name) { config.detection.swarm.enabled = b }
                        case ("template_swarm", "window"): if let d = duration(v, at: name) { config.detection.swarm.windowSeconds = d }
                        case ("template_swarm", "min_young_accounts"):
                            if let n = positiveInt(v, at: name, max: 10_000_000) { config.detection.swarm.minYoungAccounts = n }
                        case ("template_swarm", "baseline_factor"):
                            if let x = number(v, at: name, min: 0, max: 1000) { config.detection.swarm.baselineFactor = x }
                        case ("template_swarm", "baseline_sigmas"):
                            if let x = number(v, at: name, min: 0, max: 1000) { config.detection.swarm.baselineSigmas = x }
                        case ("template_swarm", "baseline_half_life_windows"):
                            if let x = number(v, at: name, min: 0.1, max: 100_000) { config.detection.swarm.baselineHalfLifeWindows = x }
                        case ("template_swarm", "min_template_share"):
                            if let x = number(v, at: name, min: 0, max: 1) { config.detection.swarm.minTemplateShare = x }
                        case ("slot_content", "enabled"): if let b = bool(v, at: name) { config.detection.slots.enabled = b }
                        case ("slot_content", "window"): if let d = duration(v, at: name) { config.detection.slots.windowSeconds = d }
                        case ("slot_content", "min_young_accounts"):
                            if let n = positiveInt(v, at: name, max: 10_000_000) { config.detection.slots.minYoungAccounts = n }
                        case ("slot_content", "min_score"):
                            if let x = number(v, at: name, min: 0.5, max: 100) { config.detection.slots.minScore = x }
                        case ("recipient_fanin", "enabled"): if let b = bool(v, at: name) { config.detection.fanIn.enabled = b }
                        case ("recipient_fanin", "window"): if let d = duration(v, at: name) { config.detection.fanIn.windowSeconds = d }
                        case ("recipient_fanin", "min_young_accounts_per_recipient"):
                            if let n = positiveInt(v, at: name, max: 10_000_000) { config.detection.fanIn.minYoungAccountsPerRecipient = n }
                        case ("recipient_fanin", "min_young_accounts_per_domain"):
                            if isNull(v) || v.string == "0" {
                                config.detection.fanIn.minYoungAccountsPerDomain = 0
                            } else if let n = positiveInt(v, at: name, max: 10_000_000) {
                                config.detection.fanIn.minYoungAccountsPerDomain = n
                            }
                        case ("account_rate", "enabled"): if let b = bool(v, at: name) { config.detection.accountRate.enabled = b }
                        case ("account_rate", "window"): if let d = duration(v, at: name) { config.detection.accountRate.windowSeconds = d }
                        case ("account_rate", "limit"):
                            if let n = positiveInt(v, at: name, max: 100_000_000) { config.detection.accountRate.limit = n }
                        case ("young_account_burst", _), ("template_swarm", _), ("slot_content", _), ("recipient_fanin", _),
                            ("account_rate", _):
                            unknown(name)
                        default:
                            unknown(base)
                        }
                    }
                    if fields.isEmpty && !["young_account_burst", "template_swarm", "slot_content", "recipient_fanin",
                                           "account_rate"].contains(rule) {
                        unknown(base)
                    }
                }
            default:
                unknown(key)
            }
        }
    }

    mutating func bool(_ node: Node, at name: String) -> Bool? {
        guard let s = scalar(node, at: name) else { return nil }
        switch s {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problems.append("\(name): expected true or false, got '\(s)'")
            return nil
        }
    }

    mutating func number(_ node: Node, at name: String, min: Double, max: Double) -> Double? {
        guard let s = scalar(node, at: name) else { return nil }
        guard let x = Double(s), x.isFinite, x >= min, x <= max else {
            problems.append("\(name): expected a number from \(min) to \(max), got '\(s)'")
            return nil
        }
        return x
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

    mutating func duration(_ node: Node, at name: String, allowZero: Bool = false) -> Int64? {
        guard let s = scalar(node, at: name) else { return nil }
        guard let d = DurationText.seconds(s), d > 0 || (allowZero && d == 0), d <= 10 * 365 * 86_400 else {
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
