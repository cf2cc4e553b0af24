/// The bounds of a report: how much is kept while reading, and how much is drawn.
///
/// Reading is streaming: alert records and events are folded into per-incident and per-account summaries as
/// they arrive and then dropped, so memory depends on these limits, not on the input's length. With the
/// defaults the state stays below roughly 100 MB even for hostile input (every string is cut to
/// ``ReportAlert/maxStringCharacters`` characters): at most ``maxIncidents`` incidents of at most
/// ``maxAccountsPerIncident`` accounts, ``maxSlotValuesPerIncident`` slot values, ``maxMessageIDsPerIncident``
/// message ids, ``maxAlertsPerIncident`` alert ids and ``maxSamplesPerIncident`` values of each evidence sample
/// each; at most ``maxAccounts`` accounts with events, each with at most ``maxDomainsPerAccount``
/// recipient domains and ``maxArtefactsPerAccount`` artefacts; at most ``maxArtefacts`` artefacts.
///
/// What is drawn is bounded separately, so that the page opens quickly in a browser whatever the input: the
/// timeline, the detailed incident sections, the incident index and the graph each have a cap, and the page
/// says how many items each left out.
public struct ReportLimits: Sendable, Equatable {
    /// Incidents (the records' `incident` ids) kept; records of further incidents are counted as not shown.
    /// Default 20,000.
    public var maxIncidents: Int
    /// Accounts kept per incident, in the order first listed; the rule's total is still shown. Default 100.
    public var maxAccountsPerIncident: Int
    /// Suspicious slot values kept per incident (the latest record's, which lists the most frequent). Default 10.
    public var maxSlotValuesPerIncident: Int
    /// Sample message ids kept per incident. Default 10.
    public var maxMessageIDsPerIncident: Int
    /// Alert ids listed per incident (records of further alerts of the incident are still folded in, and
    /// counted). Default 50.
    public var maxAlertsPerIncident: Int
    /// Values kept per incident of each evidence sample: logins, client IPs, recipients, recipient domains,
    /// queue ids. Default 10.
    public var maxSamplesPerIncident: Int
    /// Accounts whose events are summarised (first/last send, domains); only accounts named in an alert are
    /// tracked at all. Default 100,000.
    public var maxAccounts: Int
    /// Recipient domains counted per account; further domains are counted as "other". Default 20.
    public var maxDomainsPerAccount: Int
    /// Artefacts (phone numbers, hosts) linked per account. Default 20.
    public var maxArtefactsPerAccount: Int
    /// Distinct artefacts tracked over the whole input. Default 10,000.
    public var maxArtefacts: Int
    /// Distinct subjects whose indicators are cached while reading events. Default 10,000.
    public var maxCachedSubjects: Int
    /// Rows of the timeline (the most severe incidents, then the largest, then the earliest). Default 150.
    public var maxTimelineRows: Int
    /// Incidents shown with their full details, chosen as for the timeline. Default 100.
    public var maxDetailedIncidents: Int
    /// Rows of the incident index table. Default 2,000.
    public var maxIndexRows: Int
    /// Accounts listed in one incident's detail section. Default 50.
    public var maxAccountsShown: Int
    /// Artefact nodes in the graph, the most shared first. Default 60.
    public var maxGraphArtefacts: Int
    /// Account nodes in the graph, the most linked first. Default 120.
    public var maxGraphAccounts: Int
    /// Links drawn per account in the graph, the strongest first (exact before inferred, then by messages).
    /// Default 4.
    public var maxGraphLinksPerAccount: Int

    /// The defaults documented on each property.
    public init(
        maxIncidents: Int = 20_000, maxAccountsPerIncident: Int = 100, maxSlotValuesPerIncident: Int = 10,
        maxMessageIDsPerIncident: Int = 10, maxAccounts: Int = 100_000, maxDomainsPerAccount: Int = 20,
        maxArtefactsPerAccount: Int = 20, maxArtefacts: Int = 10_000, maxCachedSubjects: Int = 10_000,
        maxTimelineRows: Int = 150, maxDetailedIncidents: Int = 100, maxIndexRows: Int = 2_000,
        maxAccountsShown: Int = 50, maxGraphArtefacts: Int = 60, maxGraphAccounts: Int = 120,
        maxGraphLinksPerAccount: Int = 4, maxAlertsPerIncident: Int = 50, maxSamplesPerIncident: Int = 10
    ) {
        self.maxAlertsPerIncident = maxAlertsPerIncident
        self.maxSamplesPerIncident = maxSamplesPerIncident
        self.maxIncidents = maxIncidents
        self.maxAccountsPerIncident = maxAccountsPerIncident
        self.maxSlotValuesPerIncident = maxSlotValuesPerIncident
        self.maxMessageIDsPerIncident = maxMessageIDsPerIncident
        self.maxAccounts = maxAccounts
        self.maxDomainsPerAccount = maxDomainsPerAccount
        self.maxArtefactsPerAccount = maxArtefactsPerAccount
        self.maxArtefacts = maxArtefacts
        self.maxCachedSubjects = maxCachedSubjects
        self.maxTimelineRows = maxTimelineRows
        self.maxDetailedIncidents = maxDetailedIncidents
        self.maxIndexRows = maxIndexRows
        self.maxAccountsShown = maxAccountsShown
        self.maxGraphArtefacts = maxGraphArtefacts
        self.maxGraphAccounts = maxGraphAccounts
        self.maxGraphLinksPerAccount = maxGraphLinksPerAccount
    }
}
