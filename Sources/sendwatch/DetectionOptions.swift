import ArgumentParser
import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline

/// The detection flags `replay` and `tail` share: warm-up, new-account age, the account registry, alert format.
struct DetectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Warm-up: accounts first seen within this long of the first event are established (detect.warmup, "
                + "default 1h; 0 for a log shorter than that)."))
    var warmup: String?

    @Option(name: .long, help: "Accounts younger than this are young (detect.new_account_age, default 7d).")
    var newAccountAge: String?

    @Option(name: .long, help: "Account registry file: one 'account,created_at' per line (RFC 3339 or epoch seconds).")
    var accounts: String?

    @Option(
        name: .long,
        help:
            "Alert records: sendwatch (schema v\(Alert.schemaVersion), default) or ocsf (OCSF Detection Finding, class 2004)."
    )
    var alertFormat: String = "sendwatch"

    /// The alert record format.
    func format() throws -> AlertFormat {
        guard let format = AlertFormat(rawValue: alertFormat) else {
            let names = AlertFormat.allCases.map(\.rawValue).joined(separator: " or ")
            throw ValidationError("--alert-format must be \(names), not '\(alertFormat)'")
        }
        return format
    }

    /// Applies --warmup and --new-account-age to `configuration`, through the declarations of `detect.warmup`
    /// and `detect.new_account_age`: a flag accepts exactly what the file accepts.
    func apply(to configuration: inout Configuration) throws {
        for (flag, key, value) in [
            ("--warmup", "detect.warmup", warmup), ("--new-account-age", "detect.new_account_age", newAccountAge),
        ] {
            guard let value else { continue }
            if let problem = configuration.set(key, to: value) { throw ValidationError("\(flag): \(problem)") }
        }
    }

    /// The --accounts registry entries (none without the flag); bad lines are reported on stderr, at most 10.
    func registry() throws -> [(String, EventTime)] {
        try Self.registry(accounts)
    }

    /// The entries of the account registry file `accounts` (none for nil); bad lines are reported on stderr, at
    /// most 10. `forward --accounts` reads its registry this way too.
    static func registry(_ accounts: String?) throws -> [(String, EventTime)] {
        guard let accounts else { return [] }
        let text = try readTextFile(accounts, named: "--accounts \(accounts)")
        let (entries, problems) = AccountRegistry.parse(text)
        for p in problems.prefix(10) { printError("sendwatch: \(accounts): \(p)") }
        if problems.count > 10 { printError("sendwatch: \(accounts): \(problems.count - 10) more bad lines") }
        return entries
    }
}
