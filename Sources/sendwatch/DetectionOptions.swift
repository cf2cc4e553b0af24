import ArgumentParser
import Foundation
import SendWatchAlerts
import SendWatchCore
import SendWatchDetect
import SendWatchPipeline

/// The detection flags `replay` and `tail` share: warm-up, new-account age, the account registry, alert format.
struct DetectionOptions: ParsableArguments {
    @Option(name: .long, help: "Warm-up: accounts first seen this long after the first event are established (default 1h).")
    var warmup: String?

    @Option(name: .long, help: "Accounts younger than this are young (default 7d).")
    var newAccountAge: String?

    @Option(name: .long, help: "Account registry file: one 'account,created_at' per line (RFC 3339 or epoch seconds).")
    var accounts: String?

    @Option(name: .long, help: "Alert records: sendwatch (schema v1, default) or ocsf (OCSF Detection Finding, class 2004).")
    var alertFormat: String = "sendwatch"

    /// The alert record format.
    func format() throws -> AlertFormat {
        guard let format = AlertFormat(rawValue: alertFormat) else {
            throw ValidationError("--alert-format must be sendwatch or ocsf, not '\(alertFormat)'")
        }
        return format
    }

    /// Applies --warmup and --new-account-age to `configuration`.
    func apply(to configuration: inout Configuration) throws {
        if let warmup {
            guard let s = DurationText.seconds(warmup) else { throw ValidationError("--warmup '\(warmup)' is not a duration like 1h") }
            configuration.detection.ages.warmupSeconds = s
        }
        if let newAccountAge {
            guard let s = DurationText.seconds(newAccountAge), s > 0 else {
                throw ValidationError("--new-account-age '\(newAccountAge)' is not a duration like 7d")
            }
            configuration.detection.ages.newAccountAgeSeconds = s
        }
    }

    /// The --accounts registry entries (none without the flag); bad lines are reported on stderr, at most 10.
    func registry() throws -> [(String, EventTime)] {
        guard let accounts else { return [] }
        let text: String
        do {
            text = try String(contentsOfFile: accounts, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read --accounts \(accounts): \(error.localizedDescription)")
        }
        let (entries, problems) = AccountRegistry.parse(text)
        for p in problems.prefix(10) { printError("sendwatch: \(accounts): \(p)") }
        if problems.count > 10 { printError("sendwatch: \(accounts): \(problems.count - 10) more bad lines") }
        return entries
    }
}
