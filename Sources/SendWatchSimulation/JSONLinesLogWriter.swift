public import SendWatchCore

/// Writes one JSON object per message in SendWatch's default JSON-lines schema, keys in this order: `ts`
/// (RFC 3339 UTC, milliseconds), `account`, `account_created`, `sender`, `to` (array), `subject`,
/// `template_id` (notification templates only), `message_id` (in angle brackets), `client_ip`.
///
/// A notification service's send log records the accepted send, not the delivery, so there are no
/// deferrals or bounces in this format.
public struct JSONLinesLogWriter: LogWriter, Sendable {
    private var writer = JSONWriter(capacity: 1024)

    public init() {}

    private static func milliseconds(_ t: EventTime) -> EventTime {
        let ms = t.microseconds >= 0 ? t.microseconds / 1000 : (t.microseconds - 999) / 1000
        return EventTime(microseconds: ms * 1000)
    }

    public func eventTimes(of message: SimulatedMessage) -> (first: EventTime, last: EventTime) {
        let t = JSONLinesLogWriter.milliseconds(message.accepted)
        return (t, t)
    }

    public mutating func write(_ m: SimulatedMessage, to lines: inout LineScheduler) {
        writer.reset()
        writer.beginObject()
        writer.key("ts"); writer.time(JSONLinesLogWriter.milliseconds(m.accepted))
        writer.key("account"); writer.string(m.account)
        writer.key("account_created"); writer.time(EventTime(seconds: m.accountCreated.seconds))
        writer.key("sender"); writer.string(m.sender)
        writer.key("to")
        writer.beginArray()
        for r in m.recipients { writer.string(r.address) }
        writer.endArray()
        writer.key("subject"); writer.string(m.subject)
        if let template = m.templateID {
            writer.key("template_id"); writer.string(template)
        }
        writer.key("message_id"); writer.string("<" + m.messageID + ">")
        writer.key("client_ip"); writer.string(m.clientIP)
        writer.endObject()
        lines.add(writer.bytes, at: m.accepted)
    }
}

extension JSONLinesLogWriter: SimulatedFormat {
    public static var formatName: String { "jsonl" }

    public init(configuration: SimulationConfiguration) { self.init() }
}

extension SimulationFormat {
    /// JSON lines in SendWatch's default schema, one record per message.
    public static var jsonl: SimulationFormat { SimulationFormat(JSONLinesLogWriter.self) }
}
