/// What a parser hands its caller for each send event it recognises.
///
/// With ``countOnly`` a parser that supports it (``PostfixParser``) makes the same decisions line by line
/// (which lines are events, ignored or rejected, which messages are notices or incomplete) and counts the
/// events in ``SendWatchCore/ParseCounters/events``, but appends nothing to the batch and makes no `String`
/// of the fields (the message state keeps only whether each field is present and, for the sender, whether it
/// is empty). Parsers without the mode (Exim, JSON lines) append their events either way. For
/// `sendwatch events --count-only`.
public enum EventOutput: Sendable, Hashable {
    /// Each event is appended to the batch with all its fields.
    case events
    /// Events are only counted.
    case countOnly
}
