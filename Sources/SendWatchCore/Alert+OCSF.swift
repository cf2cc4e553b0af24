extension Alert {
    /// The OCSF schema version the Detection Finding records follow.
    public static let ocsfVersion = "1.3.0"

    /// Writes the alert as one OCSF Detection Finding (class 2004, category Findings) JSON line.
    ///
    /// Mapping: `activity_id` 1/2/3 = create/update/close (`type_uid` = 2004 × 100 + activity), `time` = the
    /// record's event time in epoch milliseconds, `severity_id` 2–5 = low–critical, `status_id` 1 (New) or 4
    /// (Resolved, for `close`), `finding_info.uid` = the SendWatch alert id, `finding_info.title` = the kind,
    /// `finding_info.desc` = the reasons, `first_seen_time`/`last_seen_time`, `finding_info.types` = the kind,
    /// as `observables` (``ocsfObservables``): the implicated accounts and the evidence's logins (User Name, 4),
    /// client IPs (IP Address, 2), recipients (Email Address, 5), recipient domains (Hostname, 1), queue ids and
    /// sample message ids (Other, 99); and SendWatch's own evidence, score,
    /// template (`{"id", "key", "text"}`), accounts total and, on update and close records, `added` under
    /// `unmapped`, unchanged, with `unmapped.sendwatch_schema` = ``schemaVersion``, `unmapped.incident` =
    /// ``incident`` and, when not empty, `unmapped.merged_incidents` = ``mergedIncidents``.
    public func writeOCSFLine(to w: inout JSONWriter, productVersion: String) {
        let activity: Int
        switch action {
        case .create: activity = 1
        case .update: activity = 2
        case .close: activity = 3
        }
        let severityID: Int
        switch severity {
        case .low: severityID = 2
        case .medium: severityID = 3
        case .high: severityID = 4
        case .critical: severityID = 5
        }
        w.beginObject()
        w.key("class_uid"); w.int(2004)
        w.key("class_name"); w.string("Detection Finding")
        w.key("category_uid"); w.int(2)
        w.key("category_name"); w.string("Findings")
        w.key("activity_id"); w.int(activity)
        w.key("activity_name"); w.string(action == .create ? "Create" : action == .update ? "Update" : "Close")
        w.key("type_uid"); w.int(200_400 + activity)
        w.key("time"); w.int64(eventTime.microseconds / 1000)
        w.key("severity_id"); w.int(severityID)
        w.key("severity"); w.string(severity.rawValue.prefix(1).uppercased() + severity.rawValue.dropFirst())
        w.key("status_id"); w.int(action == .close ? 4 : 1)
        w.key("message"); w.string(reasons.first ?? kind)
        w.object("metadata") { w in
            w.key("version"); w.string(Self.ocsfVersion)
            w.object("product") { w in
                w.key("name"); w.string("SendWatch")
                w.key("vendor_name"); w.string("SendWatch")
                w.key("version"); w.string(productVersion)
            }
        }
        w.object("finding_info") { w in
            w.key("uid"); w.string(id)
            w.key("title"); w.string(kind)
            w.key("desc"); w.string(reasons.joined(separator: " "))
            w.key("types"); w.strings([kind])
            w.key("first_seen_time"); w.int64(firstEventTime.microseconds / 1000)
            w.key("last_seen_time"); w.int64(eventTime.microseconds / 1000)
        }
        w.key("observables")
        w.beginArray()
        for o in ocsfObservables {
            for value in o.values {
                w.beginObject()
                w.key("name"); w.string(o.name)
                w.key("type_id"); w.int(o.typeID)
                w.key("type"); w.string(o.type)
                w.key("value"); w.string(value)
                w.endObject()
            }
        }
        w.endArray()
        w.object("unmapped") { w in
            w.key("sendwatch_schema"); w.int(Self.schemaVersion)
            w.key("incident"); w.string(incident)
            writeMergedIncidents(to: &w)
            w.key("score"); w.double(score, decimals: 3)
            w.key("accounts_total"); w.int(accountsTotal)
            writeAdded(to: &w)
            w.key("template"); writeTemplate(to: &w)
            w.key("evidence"); w.value(.object(evidence))
        }
        w.endObject()
        w.newline()
    }
}

extension Alert {
    /// The observables of ``writeOCSFLine(to:productVersion:)``, in output order, each as (`name`, OCSF
    /// `type_id`, `type`, values): the accounts, then the evidence's `submitters.logins`,
    /// `submitters.client_ips`, `deliveries.recipients`, `deliveries.recipient_domains`, `deliveries.queue_ids`
    /// and `sample_message_ids`, each as listed (so bounded like the evidence; an absent list gives none).
    var ocsfObservables: [(name: String, typeID: Int, type: String, values: [String])] {
        [
            ("account", 4, "User Name", accounts),
            ("login", 4, "User Name", evidenceStrings("submitters", "logins")),
            ("client_ip", 2, "IP Address", evidenceStrings("submitters", "client_ips")),
            ("recipient", 5, "Email Address", evidenceStrings("deliveries", "recipients")),
            ("recipient_domain", 1, "Hostname", evidenceStrings("deliveries", "recipient_domains")),
            ("queue_id", 99, "Other", evidenceStrings("deliveries", "queue_ids")),
            ("message_id", 99, "Other", evidenceStrings(nil, "sample_message_ids")),
        ]
    }

    /// The strings of `evidence[object][key]` (or `evidence[key]` when `object` is `nil`), or none when absent or
    /// not a list of strings.
    func evidenceStrings(_ object: String?, _ key: String) -> [String] {
        var pairs = evidence
        if let object {
            guard case .object(let inner)? = evidence.first(where: { $0.0 == object })?.1 else { return [] }
            pairs = inner
        }
        return pairs.first(where: { $0.0 == key })?.1.strings ?? []
    }
}
