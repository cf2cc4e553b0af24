import Foundation
public import SendWatchCore
import SendWatchDetect
import SendWatchFormats

extension Configuration {
    /// Every key of the file, each declared once: `input`, `accounts`, `messages`, `jsonl.fields` and `policy` here;
    /// `detect`, `alerts`, `templates` and each rule's `rules.<name>` in `SendWatchDetect`
    /// (``DetectionConfiguration/configurationSections``, the rules' sections in their folders).
    public static let schema = ConfigSchema<Configuration>(
        header: [
            "# SendWatch configuration. Every key is optional; the values shown are the defaults.",
            "# Durations: 45s, 10m, 1h, 7d, 1w, combinations like 1h30m, or a number of seconds.",
        ],
        sections: [input, accounts, messages, jsonl]
            + DetectionConfiguration.configurationSections.map {
                $0.scoped(get: { $0.detection }, set: { $0.detection = $1 })
            } + [policy])

    private static let policy = ConfigSection<Configuration>(
        ["policy"],
        doc: [
            "The Postfix policy service of 'tail --policy' (docs/operations.md): a request whose sasl_username is",
            "an account of an open alert is answered with the action; any other request, and any problem, DUNNO.",
        ],
        keys: [
            ConfigKey(
                "action",
                doc: [
                    "HOLD: accepted, kept on the hold queue for an operator (postsuper -H releases it);",
                    "DEFER_IF_PERMIT: refused for now (4xx); REJECT: refused (5xx).",
                ],
                accepted: "HOLD, DEFER_IF_PERMIT or REJECT", extremes: [], render: { $0.policy.action.rawValue },
                assign: { config, value in
                    guard case .text(let s) = value, let action = PolicyAction(rawValue: s) else {
                        return "expected HOLD, DEFER_IF_PERMIT or REJECT, got \(value.quoted)"
                    }
                    config.policy.action = action
                    return nil
                }),
            ConfigKey(
                "text",
                doc: [
                    "Text after the action: Postfix logs it; REJECT and DEFER_IF_PERMIT also send it to the client.",
                    "The alert's id is appended in brackets.",
                ],
                accepted: "1 to \(PolicyConfiguration.maxTextLength) printable ASCII characters", extremes: [],
                render: { $0.policy.text },
                assign: { config, value in
                    guard case .text(let s) = value, PolicyConfiguration.isValidText(s) else {
                        return "\(value.quoted) is not 1 to \(PolicyConfiguration.maxTextLength) printable ASCII "
                            + "characters"
                    }
                    config.policy.text = s
                    return nil
                }),
            ConfigKey(
                "never_hold",
                doc: [
                    "Logins never held, separated by commas, compared without regard to case: the platform's own",
                    "service logins (which send for every tenant: suspend the tenant instead), monitoring, VIPs.",
                ],
                accepted: "logins separated by commas (at most \(PolicyConfiguration.maxNeverHold)), or nothing",
                extremes: [],
                render: { $0.policy.neverHold.sorted().joined(separator: ", ") },
                assign: { config, value in
                    guard case .text(let s) = value else {
                        config.policy.neverHold = []
                        return nil
                    }
                    guard let logins = PolicyConfiguration.parseNeverHold(s) else {
                        return "\(value.quoted) is not a list of logins (printable ASCII without spaces) separated "
                            + "by commas, at most \(PolicyConfiguration.maxNeverHold)"
                    }
                    config.policy.neverHold = logins
                    return nil
                }),
            .duration(
                "expiry", \.policy.expirySeconds,
                doc: "An alert no longer holds this long (wall clock) after tail delivered its create record, even",
                "if it is still open."),
        ])

    private static let input = ConfigSection<Configuration>(
        ["input"],
        keys: [
            ConfigKey(
                "format", doc: ["auto: recognise each input from its first lines."],
                accepted: "auto, \(LogFormat.namesText)",
                extremes: [], render: { $0.format?.rawValue ?? "auto" },
                assign: { config, value in
                    guard case .text(let s) = value, s == "auto" || LogFormat(rawValue: s) != nil else {
                        return "expected auto, \(LogFormat.namesText), got \(value.quoted)"
                    }
                    config.format = LogFormat(rawValue: s)
                    return nil
                }),
            .integer(
                "max_line_bytes", \.maxLineBytes, in: 1...(64 << 20),
                doc: "Longest line kept, in bytes. Longer lines are skipped to their newline and counted",
                "(line_too_long)."),
            ConfigKey(
                "timezone",
                doc: [
                    "Zone of timestamps without an offset (classic syslog, postlogd, Exim). local: the system's",
                    "zone (TZ, else /etc/localtime, else UTC); name the zone of a log copied from another server.",
                ],
                accepted: "local, UTC, an offset like +01:00, or a zone name like Europe/Berlin", extremes: [],
                render: { $0.timezone },
                assign: { config, value in
                    guard case .text(let s) = value, LocalTimeZone(parsing: s) != nil else {
                        return "\(value.quoted) is not local, UTC, an offset like +01:00, or a known zone name"
                    }
                    config.timezone = s
                    return nil
                }),
            .optionalInteger(
                "year", \.year, in: 1990...2200,
                doc: "Year of year-less syslog timestamps. null: each file's modification time decides; for",
                "a pipe (stdin, a FIFO) the current date is used, and the run ends with a warning when",
                "such an input had year-less timestamps."),
        ])

    private static let accounts = ConfigSection<Configuration>(
        ["accounts"],
        keys: [
            header(
                "account_header", \.formats.accountHeader,
                doc: "Header whose value is the account id, when header_checks (Postfix) or an ACL logwrite (Exim)",
                "logs it. Account = this header if logged by a trusted submitter (the next two keys), else the",
                "authenticated (SASL) user, else the local submitter, else the envelope sender."),
            ConfigKey(
                "account_header_logins",
                doc: [
                    "Logins trusted to name the account in account_header: your platform's service logins (SASL",
                    "user, or local user of a sendmail submission). Any sender can write the header, so from anyone",
                    "else it is not believed: the account is the login, and the header's value is kept as the",
                    "event's claimed_account. Comma-separated; null for none. The default is the service login of",
                    "the bundled simulated datasets (example.net is reserved: no real server has it); set yours.",
                ],
                accepted: "comma-separated logins, or null", extremes: [],
                render: { config in
                    let logins = config.formats.accountHeaderLogins.sorted()
                    return logins.isEmpty ? "null" : logins.joined(separator: ", ")
                },
                assign: { config, value in
                    guard case .text(let s) = value else {
                        config.formats.accountHeaderLogins = []
                        return nil
                    }
                    let logins = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    guard !logins.contains(where: { $0.isEmpty || $0.contains(" ") }) else {
                        return "\(value.quoted) is not a comma-separated list of logins"
                    }
                    config.formats.accountHeaderLogins = Set(logins)
                    return nil
                }),
            ConfigKey(
                "account_header_networks",
                doc: [
                    "Client networks trusted to name the account in account_header (CIDR, IPv4 or IPv6): where",
                    "your platform's own senders submit from. A local submission (sendmail, no client) counts as",
                    "loopback. Default loopback: the platform's application on the mail host. Leave loopback out",
                    "when untrusted users submit through it (webmail, shared hosting). Comma-separated; null for",
                    "none.",
                ],
                accepted: "comma-separated networks like 10.0.0.0/8, 2001:db8::/32, or null", extremes: [],
                render: { config in
                    let networks = config.formats.accountHeaderNetworks.map(\.description)
                    return networks.isEmpty ? "null" : networks.joined(separator: ", ")
                },
                assign: { config, value in
                    guard case .text(let s) = value else {
                        config.formats.accountHeaderNetworks = []
                        return nil
                    }
                    var networks: [IPNetwork] = []
                    for part in s.split(separator: ",", omittingEmptySubsequences: false) {
                        guard let network = IPNetwork(parsing: String(part)) else {
                            return "'\(part.trimmingCharacters(in: .whitespaces))' is not a network like 10.0.0.0/8 "
                                + "or 2001:db8::/32"
                        }
                        networks.append(network)
                    }
                    config.formats.accountHeaderNetworks = networks
                    return nil
                }),
            header("template_header", \.formats.templateHeader, doc: "Header whose value is an explicit template id."),
        ])

    private static let messages = ConfigSection<Configuration>(
        ["messages"],
        keys: [
            .integer(
                "max_open", \.formats.maxOpenMessages, in: 1...50_000_000,
                doc: "Most messages kept open while their lines are joined (Postfix queue ids, Exim message ids).",
                "When full, the least recently seen message is dropped and counted (evicted)."),
            .duration(
                "open_timeout", \.formats.openMessageTimeoutSeconds,
                doc: "A message with no line for this long (event time) is dropped and counted as incomplete."),
        ])

    private static let jsonl = ConfigSection<Configuration>(
        ["jsonl", "fields"],
        doc: [
            "Dotted paths of the fields in JSON-lines input; a numeric component indexes an array",
            "(mail.destination.0); null leaves an optional field unmapped. For Amazon SES records, e.g.:",
            "ts: mail.timestamp, to: mail.destination, subject: mail.commonHeaders.subject, sender: mail.source",
        ],
        keys: jsonFieldNames.map { field in
            let required = field.name == "ts" || field.name == "to"
            return ConfigKey(
                field.name, doc: [field.doc],
                accepted: "a dotted path" + (required ? "" : ", or null"),
                extremes: [],
                render: { config in config.jsonFields[field.name].flatMap { $0.isEmpty ? nil : $0 } ?? "null" },
                assign: { config, value in
                    guard case .text(let s) = value, !s.isEmpty else {
                        if required { return "a send needs a time and recipients; this field cannot be unmapped" }
                        config.jsonFields[field.name] = ""
                        return nil
                    }
                    guard !s.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                        return "'\(s)' is not a dotted path like mail.commonHeaders.subject"
                    }
                    config.jsonFields[field.name] = s
                    return nil
                })
        })

    /// A header field name: printable ASCII without spaces or `:`.
    private static func header(
        _ name: String, _ path: any WritableKeyPath<Configuration, String> & Sendable, doc: String...
    ) -> ConfigKey<Configuration> {
        ConfigKey(
            name, doc: doc, accepted: "a header field name", extremes: [], render: { $0[keyPath: path] },
            assign: { config, value in
                guard case .text(let s) = value,
                    !s.isEmpty, s.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") })
                else { return "\(value.quoted) is not a header field name" }
                config[keyPath: path] = s
                return nil
            })
    }
}
