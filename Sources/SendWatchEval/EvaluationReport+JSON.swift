internal import SendWatchCore

extension EvaluationReport {
    /// The report as one JSON object followed by a newline, keys in a fixed order (the same input always gives
    /// the same bytes): `v`, `accounts`, `incidents_detected`, `incidents_total`, `incidents_split`, `incidents_sharing`, `incidents`,
    /// `median_latency_seconds`, `false_positives`, `clean_alerts`, `input`, `labels`, `warnings`.
    ///
    /// Ratios have 4 decimals, seconds 3; a value that is n/a is `null`. Times are RFC 3339 UTC.
    public func jsonBytes() -> [UInt8] {
        var w = JSONWriter(capacity: 16 * 1024)
        w.beginObject()
        w.key("v"); w.int(1)

        w.object("accounts") { w in
            w.key("flagged"); w.int(flaggedAccounts)
            w.key("abusive"); w.int(abusiveAccounts)
            w.key("true_positive"); w.int(truePositiveAccounts)
            w.key("precision"); w.double(precision, decimals: 4)
            w.key("recall"); w.double(recall, decimals: 4)
        }

        w.key("incidents_detected"); w.int(incidentsDetected)
        w.key("incidents_total"); w.int(incidents.count)
        w.key("incidents_split"); w.int(incidentsSplit)
        w.key("incidents_sharing"); w.int(incidentsSharing)
        w.objects("incidents", incidents) { w, i in
            w.key("id"); w.string(i.id)
            w.key("kind"); w.string(i.kind)
            w.key("detected"); w.bool(i.detected)
            w.key("start"); w.time(i.start)
            w.key("first_alert_time"); w.time(i.firstAlertTime)
            w.key("latency_seconds"); w.double(i.latencySeconds, decimals: 3)
            w.key("first_alert_id"); w.string(i.firstAlertID)
            w.key("first_alert_kind"); w.string(i.firstAlertKind)
            w.key("accounts"); w.int(i.accounts)
            w.key("accounts_flagged"); w.int(i.accountsFlagged)
            w.key("share_flagged"); w.double(i.shareFlagged, decimals: 4)
            w.key("sendwatch_incidents"); w.int(i.sendWatchIncidents)
            w.key("shares_incident_with"); w.strings(i.sharesIncidentWith)
        }

        w.object("median_latency_seconds") { w in
            w.key("all"); w.double(medianLatencySeconds, decimals: 3)
            w.objects("by_kind", latencyByKind) { w, k in
                w.key("kind"); w.string(k.kind)
                w.key("incidents"); w.int(k.incidents)
                w.key("detected"); w.int(k.detected)
                w.key("median_latency_seconds"); w.double(k.medianLatencySeconds, decimals: 3)
            }
        }

        w.object("false_positives") { w in
            w.key("lookalike_accounts"); w.int(lookAlikeAccountsFlagged)
            w.objects("lookalikes", lookAlikes) { w, g in
                w.key("id"); w.string(g.id)
                w.key("kind"); w.string(g.kind)
                w.key("accounts"); w.int(g.accounts)
                w.key("flagged"); w.int(g.flagged)
                w.key("flagged_sample"); w.strings(g.flaggedSample)
            }
            w.key("unlabelled_accounts"); w.int(unlabelledAccountsFlagged)
            w.key("unlabelled_sample"); w.strings(unlabelledSample)
        }

        w.object("clean_alerts") { w in
            w.key("alerts"); w.int(cleanAlerts)
            w.key("duration_seconds"); w.double(durationSeconds, decimals: 3)
            w.key("duration_source"); w.string(durationSource.rawValue)
            w.key("per_day"); w.double(cleanAlertsPerDay, decimals: 4)
        }

        w.object("input") { w in
            w.key("lines"); w.int(lines)
            w.key("records"); w.int(records)
            w.key("bad_lines"); w.int(badLines)
            w.objects("bad_line_examples", badLineExamples) { w, b in
                w.key("line"); w.int(b.line)
                w.key("reason"); w.string(b.reason)
            }
            w.key("scored_records"); w.int(scoredRecords)
            w.key("scored_alerts"); w.int(scoredAlerts)
            w.key("warmup_records"); w.int(warmupRecords)
            w.key("warmup_alerts"); w.int(warmupAlerts)
            w.key("warmup_accounts"); w.int(warmupAccounts)
            w.key("warmup_abusive_accounts"); w.int(warmupAbusiveAccounts)
        }

        w.object("labels") { w in
            w.key("warmup_end"); w.time(warmupEnd)
            w.key("end"); w.time(labelsEnd)
            w.object("metadata") { w in
                for m in metadata {
                    w.key(dynamic: m.key); w.string(m.value)
                }
            }
        }

        w.key("warnings"); w.strings(labelWarnings + warnings)
        w.endObject()
        w.newline()
        return w.bytes
    }
}
