extension SendEvent {
    /// Writes the event as one `sendwatch events` JSON line, keys in this fixed order: `time`, `host`,
    /// `account`, `account_source`, `sender`, `recipient`, `subject`, `template`, `message_id`, `queue_id`,
    /// `client_ip`, `login`, `claimed_account`, `status`, `account_created` when known, and `subject_cut: true` when
    /// the log cut the subject.
    public func writeJSONLine(to writer: inout JSONWriter) {
        writer.beginObject()
        writeJSONMembers(to: &writer)
        writer.endObject()
        writer.newline()
    }

    /// Writes the members of ``writeJSONLine(to:)``'s object, in its order, into the object the caller opened:
    /// for a record that adds keys after them (`sendwatch ship`'s `host_max_time`).
    public func writeJSONMembers(to writer: inout JSONWriter) {
        writer.key("time"); writer.time(time)
        writer.key("host"); writer.string(host)
        writer.key("account"); writer.string(account)
        writer.key("account_source"); writer.string(accountSource.rawValue)
        writer.key("sender"); writer.string(sender)
        writer.key("recipient"); writer.string(recipient)
        writer.key("subject"); writer.string(subject)
        writer.key("template"); writer.string(template)
        writer.key("message_id"); writer.string(messageID)
        writer.key("queue_id"); writer.string(queueID)
        writer.key("client_ip"); writer.string(clientIP)
        writer.key("login"); writer.string(login)
        writer.key("claimed_account"); writer.string(claimedAccount)
        writer.key("status"); writer.string(status.rawValue)
        if let accountCreated {
            writer.key("account_created"); writer.time(accountCreated)
        }
        if subjectCut {
            writer.key("subject_cut"); writer.bool(true)
        }
    }
}
