import CNATS

/// Turns a NATS C client status (and JetStream error code) into a ``FleetError``: unreachable and timed-out
/// calls get the transient codes, everything else `fallback`.
func fleetError(
    _ status: natsStatus, jetStream: jsErrCode = jsErrCode(rawValue: 0), fallback: FleetError.Code, doing what: String
) -> FleetError {
    let code: FleetError.Code
    switch status {
    case NATS_NO_SERVER, NATS_CONNECTION_CLOSED, NATS_CONNECTION_DISCONNECTED, NATS_NOT_YET_CONNECTED,
        NATS_STALE_CONNECTION, NATS_IO_ERROR:
        code = .brokerUnavailable
    case NATS_TIMEOUT:
        code = .timedOut
    case NATS_NO_RESPONDERS:
        // No JetStream API answers the subject: JetStream is off, or (for a publish) no stream takes it.
        code = fallback == .publishFailed ? .publishFailed : .jetStreamUnavailable
    default:
        code = fallback
    }
    var message = "\(what): " + String(cString: natsStatus_GetText(status))
    // The client keeps a more precise text (the server's error) per thread.
    var last = NATS_OK
    if let detail = nats_GetLastError(&last), last == status {
        let text = String(cString: detail)
        if !text.isEmpty && !message.hasSuffix(text) { message += " (\(text))" }
    }
    let js = Int(jetStream.rawValue)
    if js != 0 { message += " [JetStream error \(js)]" }
    return FleetError(
        code: code, message: message, natsStatus: Int(status.rawValue), jetStreamCode: js == 0 ? nil : js)
}
