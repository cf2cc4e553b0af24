import CNATS

/// The number a subject's last token is (`sendwatch.events.7`: 7): 0 to 1023 (``EventPartitioning``'s range);
/// -1 when the last token is not such a number. Reads the C string in place.
func subjectPartition(_ subject: UnsafePointer<CChar>) -> Int {
    // The last token's value so far (nil: not a number), and its length.
    var value: Int? = nil
    var digits = 0
    var i = 0
    while case let c = UInt8(bitPattern: subject[i]), c != 0 {
        if c == UInt8(ascii: ".") {
            (value, digits) = (0, 0)
        } else if let v = value, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), digits < 4 {
            value = v * 10 + Int(c - UInt8(ascii: "0"))
            digits += 1
        } else {
            value = nil
        }
        i += 1
    }
    guard let value, digits > 0, value <= 1023 else { return -1 }
    return value
}

/// One fetch of a pull subscription, shared by ``StreamReader`` (acknowledged later, by its owner) and
/// ``PullConsumer`` (each message acknowledged as it is taken).
///
/// Fetches up to `batch` messages (1 to 4096), waiting at most `timeoutMilliseconds` for the first, and calls
/// `each` with every message in order: the `natsMsg *` (valid during the call only) and its body, stream
/// sequence and pending count read from the message's metadata (0 when the client could not tell).
///
/// - Parameter keepLast: whether the last message is taken out of the fetched list and returned, owned by the
///   caller (who destroys it), e.g. to acknowledge everything up to it later.
/// - Returns: with `keepLast`, the last message fetched (nil when none came); nil otherwise.
/// - Throws: ``FleetError`` `invalid_argument` for a batch or timeout out of range, `consume_failed` or a
///   transient code when the fetch failed, or what `each` throws (the messages are destroyed then).
/// - Complexity: O(messages fetched + their bytes); one array per message body.
func pullFetch(
    _ subscription: OpaquePointer, batch: Int, timeoutMilliseconds: Int, keepLast: Bool,
    each: (OpaquePointer, StreamRecord) throws(FleetError) -> Void
) throws(FleetError) -> OpaquePointer? {
    guard (1...4096).contains(batch), timeoutMilliseconds > 0 else {
        throw FleetError(code: .invalidArgument, message: "fetch batch \(batch) or timeout out of range")
    }
    var list = natsMsgList()
    var jsError = jsErrCode(rawValue: 0)
    let status = natsSubscription_Fetch(&list, subscription, Int32(batch), Int64(timeoutMilliseconds), &jsError)
    if status == NATS_TIMEOUT { return nil }
    guard status == NATS_OK else {
        throw fleetError(status, jetStream: jsError, fallback: .consumeFailed, doing: "fetch failed")
    }
    defer { natsMsgList_Destroy(&list) }
    var last: Int?
    for i in 0..<Int(list.Count) {
        guard let msg = list.Msgs[i] else { continue }
        let length = Int(natsMsg_GetDataLength(msg))
        let payload: [UInt8] =
            if let data = natsMsg_GetData(msg), length > 0 {
                Array(UnsafeRawBufferPointer(start: data, count: length))
            } else {
                []
            }
        var record = StreamRecord(sequence: 0, payload: payload, pending: 0)
        if let subject = natsMsg_GetSubject(msg) { record.partition = subjectPartition(subject) }
        var meta: UnsafeMutablePointer<jsMsgMetaData>?
        if natsMsg_GetMetaData(&meta, msg) == NATS_OK, let meta {
            record.sequence = meta.pointee.Sequence.Stream
            record.pending = meta.pointee.NumPending
            jsMsgMetaData_Destroy(meta)
        }
        try each(msg, record)
        last = i
    }
    guard keepLast, let last, let msg = list.Msgs[last] else { return nil }
    // Kept past the list's destruction (which skips a nil entry).
    list.Msgs[last] = nil
    return msg
}
