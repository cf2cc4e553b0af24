/// Where ``JSONLinesParser`` finds each field of a send record: one path per field.
///
/// A path is a list of components from the top-level object down. Each component matches an object key; a
/// component made of decimal digits without a leading zero (`0`, `3`) also matches that index of an array,
/// so `["mail", "tags", "account", "0"]` reads the first element of `mail.tags.account`. An empty path means the
/// field is not mapped (always missing). Use ``path(_:)`` to split a dotted config string; keys that contain a
/// dot can only be given as an explicit component list.
///
/// The defaults are the documented default schema, one record per line:
///
/// ```json
/// {"ts":"2026-03-02T09:15:04.120+01:00","account":"t-4821","account_created":"2026-03-02T08:59:10Z",
///  "sender":"no-reply@app.example","to":["ana@example.org"],"subject":"Welcome to Example",
///  "template_id":"welcome-v2","message_id":"<a1b2@app.example>","client_ip":"198.51.100.7",
///  "host":"notify-1","status":"sent"}
/// ```
///
/// | field | key | required | forms |
/// |---|---|---|---|
/// | ``time`` | `ts` | yes | RFC 3339 string, or epoch seconds/milliseconds (number or numeric string) |
/// | ``account`` | `account` | no (falls back to ``sender``) | string or number |
/// | ``accountCreated`` | `account_created` | no | like `ts` |
/// | ``sender`` | `sender` | no | string |
/// | ``recipients`` | `to` | yes, at least one | string, or array of strings |
/// | ``subject`` | `subject` | no | string |
/// | ``template`` | `template_id` | no | string or number |
/// | ``messageID`` | `message_id` | no | string, `<...>` removed |
/// | ``clientIP`` | `client_ip` | no | string |
/// | ``host`` | `host` | no | string |
/// | ``login`` | `login` | no | string |
/// | ``status`` | `status` | no | `sent`, `deferred`, `bounced`, `expired`, `discarded`, `accepted` |
///
/// See ``JSONLinesParser`` for how each form is read.
///
/// Example: Amazon SES event publishing and notification records (``amazonSES``) nest the send under `mail`:
///
/// ```swift
/// JSONFieldMapping(
///     time: JSONFieldMapping.path("mail.timestamp"),
///     account: JSONFieldMapping.path("mail.tags.account.0"),   // a custom message tag; tag values are arrays
///     accountCreated: [],
///     sender: JSONFieldMapping.path("mail.source"),
///     recipients: JSONFieldMapping.path("mail.destination"),  // an array
///     subject: JSONFieldMapping.path("mail.commonHeaders.subject"),
///     template: JSONFieldMapping.path("mail.tags.template_id.0"),
///     messageID: JSONFieldMapping.path("mail.messageId"),
///     clientIP: JSONFieldMapping.path("mail.sourceIp"),
///     host: [],
///     status: [])
/// ```
///
/// SES publishes several records per message (`Send`, `Delivery`, `Open`, ...); feed only `Send` records (or
/// notifications of one type), or each message is counted once per record.
public struct JSONFieldMapping: Sendable, Hashable {
    /// The send time. Default `ts`.
    public var time: [String]
    /// The account (tenant, customer) that sent. Default `account`.
    public var account: [String]
    /// When the account was created. Default `account_created`.
    public var accountCreated: [String]
    /// The envelope sender address. Default `sender`.
    public var sender: [String]
    /// The recipient or recipients. Default `to`.
    public var recipients: [String]
    /// The subject. Default `subject`.
    public var subject: [String]
    /// The template id. Default `template_id`.
    public var template: [String]
    /// The Message-ID. Default `message_id`.
    public var messageID: [String]
    /// The submitting client's IP address. Default `client_ip`.
    public var clientIP: [String]
    /// The host that sent or logged the message. Default `host`.
    public var host: [String]
    /// The delivery status. Default `status`.
    public var status: [String]
    /// The login that submitted the send (API key owner, SMTP user), for the events' `login` and the alerts'
    /// submitters. Default `login`. The `account` field is believed as it is: the service wrote the record.
    public var login: [String]
    /// Whether the subject was cut (`true`; ``SendEvent/subjectCut``): what `sendwatch events` writes for a subject
    /// its log cut, so that its output replays as the log did. Default `subject_cut`.
    public var subjectCut: [String]

    public init(
        time: [String] = ["ts"],
        account: [String] = ["account"],
        accountCreated: [String] = ["account_created"],
        sender: [String] = ["sender"],
        recipients: [String] = ["to"],
        subject: [String] = ["subject"],
        template: [String] = ["template_id"],
        messageID: [String] = ["message_id"],
        clientIP: [String] = ["client_ip"],
        host: [String] = ["host"],
        status: [String] = ["status"],
        login: [String] = ["login"],
        subjectCut: [String] = ["subject_cut"]
    ) {
        self.time = time
        self.account = account
        self.accountCreated = accountCreated
        self.sender = sender
        self.recipients = recipients
        self.subject = subject
        self.template = template
        self.messageID = messageID
        self.clientIP = clientIP
        self.host = host
        self.status = status
        self.login = login
        self.subjectCut = subjectCut
    }

    /// Splits a dotted config string into path components: `"mail.commonHeaders.subject"` →
    /// `["mail", "commonHeaders", "subject"]`. The empty string gives the empty path (field not mapped); empty
    /// components (`"a..b"`) are kept and match the key `""`.
    public static func path(_ dotted: String) -> [String] {
        guard !dotted.isEmpty else { return [] }
        return dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The Amazon SES mapping shown above: `mail.timestamp`, account from the custom message tag `account`,
    /// `mail.source`, `mail.destination`, `mail.commonHeaders.subject`, template from the custom tag
    /// `template_id`, `mail.messageId`, `mail.sourceIp`; no account creation time, host or status.
    public static let amazonSES = JSONFieldMapping(
        time: path("mail.timestamp"),
        account: path("mail.tags.account.0"),
        accountCreated: [],
        sender: path("mail.source"),
        recipients: path("mail.destination"),
        subject: path("mail.commonHeaders.subject"),
        template: path("mail.tags.template_id.0"),
        messageID: path("mail.messageId"),
        clientIP: path("mail.sourceIp"),
        host: [],
        status: [],
        login: [],
        subjectCut: []
    )

    /// The paths in a fixed order; ``JSONLinesParser`` indexes the scanner's results by ``Field``.
    var paths: [[String]] {
        [
            time, account, accountCreated, sender, recipients, subject, template, messageID, clientIP, host, status,
            login, subjectCut,
        ]
    }

    /// Indexes into ``paths``.
    enum Field: Int {
        case time, account, accountCreated, sender, recipients, subject, template, messageID, clientIP, host, status
        case login, subjectCut
    }
}
