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

/// How much sooner than its deadline a fetch must end to count as ended on the server's answer, in milliseconds:
/// the client's clock counts whole milliseconds.
let pullFetchDeadlineMargin: Int64 = 5

/// What one ``pullFetch(_:batch:timeoutMilliseconds:keepLast:each:)`` left behind.
struct PullFetchResult {
    /// With `keepLast`, the last message fetched, owned by the caller (nil when none came, or without `keepLast`).
    var last: OpaquePointer?
    /// Whether the fetch's pull request is certainly finished at the server, so that nothing more comes to the
    /// subscription for it: the fetch took the whole batch, or ended before its deadline (on the server's "no
    /// messages" or "request timeout" answer). False when it may have ended on the client's own deadline, or
    /// when it was not made because messages no fetch took were waiting in the subscription.
    var settled: Bool
}

/// One fetch of a pull subscription, shared by ``StreamReader`` (acknowledged later, by its owner) and
/// ``PullConsumer`` (each message acknowledged as it is taken).
///
/// Fetches up to `batch` messages (1 to 4096), waiting at most `timeoutMilliseconds` for the first, and calls
/// `each` with every message in order: the `natsMsg *` (valid during the call only) and its body, stream
/// sequence and pending count read from the message's metadata (0 when the client could not tell).
///
/// **Only on a settled subscription.** The C client (libnats 3.4.1, Debian's) first takes the messages already
/// waiting in the subscription (delivered for an earlier pull request that outlived its fetch: a fetch that gave
/// up on its deadline just before the server answered, or one queued while the connection was down and sent on
/// reconnecting), asks the server for the rest of the batch, and then counts to the *remaining* batch: when more
/// than half a batch was waiting and the earlier request still delivers, it writes past the end of its array of
/// `batch` messages (a heap overflow: 3,512 messages for a batch of 512 in a test, and a `detect` killed by SIGSEGV
/// under broker restarts; fixed in libnats 3.9.0). So a fetch is made only when nothing waits in the subscription
/// (otherwise none is made and the result is not settled), and the caller must not fetch again on a subscription
/// whose last fetch was not ``PullFetchResult/settled``, except with a batch of at most 2 (which cannot overflow).
///
/// - Returns: with `keepLast`, the last message fetched (the list's destruction skips it); and whether the fetch
///   is settled.
/// - Throws: ``FleetError`` `invalid_argument` for a batch or timeout out of range, `consume_failed` or a
///   transient code when the fetch failed (the subscription is then not settled either), or what `each` throws
///   (the messages are destroyed then).
/// - Complexity: O(messages fetched + their bytes); one array per message body.
func pullFetch(
    _ subscription: OpaquePointer, batch: Int, timeoutMilliseconds: Int, keepLast: Bool,
    each: (OpaquePointer, StreamRecord) throws(FleetError) -> Void
) throws(FleetError) -> PullFetchResult {
    guard (1...4096).contains(batch), timeoutMilliseconds > 0 else {
        throw FleetError(code: .invalidArgument, message: "fetch batch \(batch) or timeout out of range")
    }
    var waiting: Int32 = 0
    var waitingBytes: Int32 = 0
    if batch > 2 {
        guard natsSubscription_GetPending(subscription, &waiting, &waitingBytes) == NATS_OK, waiting == 0 else {
            return PullFetchResult(last: nil, settled: false)
        }
    }
    var list = natsMsgList()
    var jsError = jsErrCode(rawValue: 0)
    // The client's clock, as its deadline uses it (milliseconds).
    let started = nats_Now()
    let status = natsSubscription_Fetch(&list, subscription, Int32(batch), Int64(timeoutMilliseconds), &jsError)
    // Ended before its deadline (a margin for the client's millisecond clock): on the server's answer.
    let early = nats_Now() - started < Int64(timeoutMilliseconds) - pullFetchDeadlineMargin
    if status == NATS_TIMEOUT { return PullFetchResult(last: nil, settled: early) }
    guard status == NATS_OK else {
        throw fleetError(status, jetStream: jsError, fallback: .consumeFailed, doing: "fetch failed")
    }
    defer { natsMsgList_Destroy(&list) }
    let settled = early || Int(list.Count) >= batch
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
            record.consumerSequence = meta.pointee.Sequence.Consumer
            record.pending = meta.pointee.NumPending
            jsMsgMetaData_Destroy(meta)
        }
        try each(msg, record)
        last = i
    }
    guard keepLast, let last, let msg = list.Msgs[last] else { return PullFetchResult(last: nil, settled: settled) }
    // Kept past the list's destruction (which skips a nil entry).
    list.Msgs[last] = nil
    return PullFetchResult(last: msg, settled: settled)
}
