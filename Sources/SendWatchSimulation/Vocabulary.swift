/// Word lists the simulated traffic is built from. All addresses use reserved example domains (`.example`,
/// `.test`, `example.com/net/org`) and all IPs documentation ranges, so nothing generated points at a real
/// mailbox or host.
enum Vocabulary {
    static let firstNames: [String] = [
        "anna", "ben", "chloe", "dmitri", "elif", "fatima", "gustavo", "hiro", "ines", "jamal", "kasia", "liam",
        "mei", "noor", "oscar", "priya", "quentin", "rosa", "sven", "tariq", "ulla", "vikram", "wen", "ximena",
        "yusuf", "zoe", "maria", "lukas", "sofia", "jonas", "emma", "noah", "lea", "felix", "clara", "david",
        "nina", "paul", "sara", "tom",
    ]
    static let lastNames: [String] = [
        "keller", "novak", "silva", "okafor", "tanaka", "larsen", "moreau", "rossi", "kowalski", "haddad",
        "nguyen", "schmidt", "garcia", "petrov", "jensen", "fischer", "costa", "dubois", "ahmed", "yilmaz",
        "murphy", "weber", "berg", "lopez", "meyer", "ivanova", "singh", "kim", "fernandes", "braun", "vogel",
        "martin", "bauer", "lind", "hansen", "romano", "ortiz", "hoffmann", "sato", "walker",
    ]
    /// Company domains of ordinary accounts (SASL users) and of tenants' customers.
    static let companyStems: [String] = [
        "northwind", "contoso", "fabrikam", "tailspin", "wingtip", "adatum", "litware", "proseware", "fourthcoffee",
        "lucerne", "margie", "treyresearch", "alpineski", "blueyonder", "cohowinery", "graphicdesign", "humongous",
        "wideworld", "woodgrove", "southridge", "bellows", "relecloud", "lamna", "vanarsdel", "nod", "tailwind",
        "datum", "fincher", "boxwood", "cedarline", "harbor", "ironbark", "juniper", "kestrel", "larkspur",
        "meridian", "nimbus", "orchard", "pinecrest", "quarry",
    ]
    static let companySuffixes: [String] = [".example", ".example.com", ".example.net", ".example.org", ".test"]
    /// Consumer mailbox domains (recipients of notifications, newsletters and attacks).
    static let consumerDomains: [String] = [
        "webmail.example", "inbox.example.com", "mailbox.test", "post.test", "uni.example.edu",
        "customers.example.org", "corp.example.net", "freemail.example", "mail.example.net", "home.example.org",
    ]
    /// Tenant names of the notification platform's established and onboarding tenants.
    static let tenantNames: [String] = [
        "Tallyboard", "Plantly", "Shiftwise", "Kitepay", "Roomly", "Quillo", "Brightdesk", "Cartwheel", "Dockyard",
        "Evenfield", "Fernhill", "Gatherly", "Hivemind", "Inkwell", "Joblane", "Kudoboard", "Lumen", "Mosaic",
        "Nestify", "Orbitly", "Pebble", "Quorum", "Ridgeway", "Sprout", "Trellis", "Umbra", "Vantage", "Waypoint",
        "Yardstick", "Zenith",
    ]
    static let tenantNameSuffixes: [String] = ["", " HQ", " Cloud", " Studio", " Labs", " App", " Team", " Works"]

    /// Subjects of ordinary person-to-person mail; some carry non-ASCII text (RFC 2047 in Postfix logs,
    /// octal escapes in Exim logs).
    static let ordinarySubjects: [String] = [
        "Re: Quarterly report draft", "Meeting notes", "Status update", "Fwd: Lunch on Friday?", "Re: budget 2027",
        "Photos from the weekend", "Invoice INV-2026-0042", "Re: Re: contract review", "Travel plans",
        "Agenda for Monday", "Re: quick question", "Slides for tomorrow", "Fwd: shipping confirmation",
        "Re: Project timeline", "Thanks!", "Call tomorrow?", "Updated proposal", "Re: Team offsite",
        "Grüße aus München", "Meeting notes – 29 Nov", "Re: Preisliste 2027", "Reminder: timesheets due",
    ]
    /// Subjects of a new employee's first day.
    static let firstDaySubjects: [String] = [
        "Hello from your new colleague", "Re: onboarding checklist", "Quick intro", "Re: laptop setup",
        "Access request: shared drive", "Re: Welcome to the team!", "Lunch today?", "Re: first week plan",
    ]

    /// The notification platform's fixed templates: (template id, text with `{tenant}`, `{name}`,
    /// `{inviter}`, `{n}` slots, relative weight in background traffic).
    static let templates: [(id: String, text: String, weight: Int)] = [
        ("private-message", "{tenant} sent you a private message", 4),
        ("invite-team", "{inviter} invited you to join {tenant}", 2),
        ("welcome", "Welcome to {tenant}, {name}!", 2),
        ("password-reset", "Password reset for {name}", 2),
        ("invoice-ready", "Your invoice {n} from {tenant} is ready", 3),
    ]

    /// The slot of each of ``templates`` (same order) that a template-rotation campaign puts its lure into:
    /// a different slot of each template where it has one.
    static let rotationSlots: [String] = ["{tenant}", "{inviter}", "{name}", "{name}", "{n}"]
    /// The lures of a template-rotation campaign: one phone number in every lure (written differently), and one
    /// domain in some.
    static let rotationLures: [String] = [
        "Refund pending, call +1 (888) 555-0163",
        "Billing desk 1-888-555-0163",
        "Call 1 888 555 0163 or visit refund-desk.example",
        "Support +1-888-555-0163 refund-desk.example/help",
    ]
    /// The lures of the `rotation-per-account-phone` campaign: the same wording, each account's own phone
    /// number in place of `#` (``perAccountPhoneLure(_:account:)``), no host.
    static let perAccountPhoneLures: [String] = [
        "Refund pending, call # today", "Your refund is on hold, call our billing desk at #",
    ]
    /// Lure `index` of ``perAccountPhoneLures`` with account `account`'s phone number, written one of three
    /// ways (`+1 (888) 555-0123`, `1-877-555-0123`, `1 866 555 0123`).
    static func perAccountPhoneLure(_ index: Int, account: Int) -> String {
        let line = String(1000 + (account * 379) % 9000)
        let number =
            [
                "+1 (888) 555-\(line)", "1-877-555-\(line)", "1 866 555 \(line)",
            ][account % 3]
        return perAccountPhoneLures[index].replacingSlot("#", with: number)
    }
    /// What the `common-artefacts` look-alike's tenants add to their names: the platform's own help link or a
    /// big webmail provider's domain, which many legitimate accounts name (short enough to stay below the
    /// slot score of a suspicious value).
    static let commonArtefactSuffixes: [String] = [
        " (help: notify.example.net/help)", " - bookings via webmail.example",
    ]

    /// The names of the `phone-only-lure` swarm: one phone number written several ways, alone or with one word;
    /// no lure words, no money, no host.
    static let phoneOnlyLures: [String] = [
        "+1 (866) 555-0197", "1-866-555-0197", "1.866.555.0197", "Tel 1-866-555-0197", "Hotline +1 866 555 0197",
    ]
    /// Scam texts a swarm of young tenants puts into the `{tenant}` slot.
    static let scamSlots: [String] = [
        "Your payment of $499 is pending. Call +1 (888) 555-0134",
        "Claim your refund at hxxps://refund-portal.example/claim",
        "Account suspended - verify at hxxps://secure-verify.example/login",
        "You won a $1000 gift card. Call +1 (888) 555-0178",
        "Tax refund approved: hxxps://tax-refund.example/form",
        "Crypto bonus waiting at hxxps://coin-bonus.example/r",
    ]
    /// The scam texts of ``scamSlots`` disguised so that byte patterns miss them (the `hidden-lures`
    /// swarm): letters for digits and a tilde in a phone number, full-width characters, defanged domains,
    /// Cyrillic look-alike letters, zero-width spaces inside a digit group, a full-width dot, spelled-out
    /// currencies, and phone numbers followed by more words. The full-width one is short: Postfix logs a
    /// header with `%.200s`, and a longer Q-encoded subject is cut inside its encoded word.
    static let hiddenLureSlots: [String] = [
        "Your payment of US$ 499 is pending. Call +1 (8OO) 555~0134 now",
        "\u{FF23}\u{FF41}\u{FF4C}\u{FF4C} \u{FF11}-\u{FF18}\u{FF18}\u{FF18}-\u{FF15}\u{FF15}\u{FF15}-\u{FF10}\u{FF11}\u{FF16}\u{FF12}",
        "Refund approved: visit refund-portal[.]example/claim",
        "Account suspended, verify at secure-verify(dot)example",
        "P\u{0430}yp\u{0430}l billing: call 1.888.555.0145 immediately",
        "You won 1000 U.S. dollars, call 888\u{200B}555\u{200B}0191",
        "Crypto bonus waiting at coin-bonus . example / r",
        "Tax refund approved at tax-refund\u{FF0E}example",
    ]
    /// The scam texts of the `padded-lures` swarm: a lure (money, a phone number, a defanged link, lure words),
    /// then invisible padding (zero-width spaces, Hangul fillers, word joiners, soft hyphens) or long non-ASCII
    /// text. Each padding character costs 6 to 9 bytes of a Q-encoded subject, so every subject outgrows the
    /// 200 bytes of a header Postfix logs and is cut inside this slot, after the lure (the whole lure is logged
    /// even behind `Your invoice INV-12345 from `) and before the template's text that follows the slot.
    static let paddedLureSlots: [String] = [
        "Refund of US$ 499 pending. Call +1 (888) 555-0134" + String(repeating: "\u{200B}", count: 24),
        "You won 1000 USD, call 1-888-555-0178 today " + String(repeating: "\u{3164}", count: 20),
        "V\u{043E}u\u{0441}h\u{0435}r US$ 250 w\u{0430}iting: \u{0441}\u{0430}ll +1 888 555 0152, "
            + "\u{043F}\u{043E}\u{0434}\u{0442}\u{0432}\u{0435}\u{0440}\u{0434}\u{0438}\u{0442}\u{0435} "
            + "\u{043F}\u{043E}\u{043B}\u{0443}\u{0447}\u{0435}\u{043D}\u{0438}\u{0435} "
            + "\u{0441}\u{0435}\u{0433}\u{043E}\u{0434}\u{043D}\u{044F} \u{0434}\u{043E} "
            + "\u{043F}\u{043E}\u{043B}\u{0443}\u{043D}\u{043E}\u{0447}\u{0438}",
        "Claim your refund at refund-portal[.]example/claim" + String(repeating: "\u{2060}", count: 24),
        "Account suspended, verify at secure-verify(dot)example" + String(repeating: "\u{00AD}", count: 32),
    ]
    /// Names of real-looking brands that carry a number, a dot or a slash: legitimate tenants that must not be
    /// taken for lures (the `brand-names` look-alike).
    static let brandNames: [String] = [
        "1-800-Flowers Team", "Acme.io", "24/7 Plumbing Ltd", "Route 66 Diner", "Studio 54 Events",
        "Bitcoin Caf\u{E9} Berlin",
    ]
    /// Phishing "brands" of trial accounts' welcome mails (the tenant name slot).
    static let phishingBrands: [String] = [
        "DocuVault. Confirm your mailbox at hxxps://docuvault-login.example/confirm",
        "PayFlow. Verify your card at hxxps://payflow-verify.example/card",
        "CloudDrive. Storage full, upgrade at hxxps://clouddrive-upgrade.example/now",
        "BankSecure. Unlock your account at hxxps://banksecure-unlock.example/id",
    ]
    /// Subjects of a single young account's burst.
    static let burstSubjects: [String] = [
        "Your parcel is on hold - pay the customs fee at hxxps://parcel-fee.example/pay",
        "Urgent: confirm your delivery address hxxps://parcel-fee.example/addr",
    ]
    /// Newsletter subjects of the old account.
    static let newsletterSubjects: [String] = [
        "Weekly deals: autumn collection inside", "Our November newsletter", "Last chance: 20% off this weekend",
    ]
}
