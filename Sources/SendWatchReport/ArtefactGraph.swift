/// The accounts-to-artefacts graph of the report: which accounts used which phone numbers and hosts, laid out
/// in two columns so that accounts sharing an artefact are visibly joined through it.
///
/// Links come from two places: the subjects of an account's own events (`--events`; exact), and otherwise the
/// alert (every listed account of an alert is linked to the artefacts of the alert's slot values and sample
/// subject; drawn dashed, because the alert does not say which account sent which value).
///
/// The layout is deterministic and needs no physics: connected components are stacked top to bottom, largest
/// first, each into the currently shortest of a few side-by-side lanes; inside one, artefacts are ordered by how many accounts share them and accounts by the mean position
/// of their artefacts (the barycentre heuristic of layered graph drawing), so most edges run nearly level.
struct ArtefactGraph {
    /// One link before selection.
    struct Link {
        var account: String
        var artefact: Indicators.Artefact
        /// Messages (events) that carried the artefact, or 1 for a link inferred from an alert.
        var weight: Int
        var fromEvents: Bool
    }

    struct Edge {
        var account: Int
        var artefact: Int
        var weight: Int
        var fromEvents: Bool
    }

    /// The accounts drawn, lane by lane and top to bottom, with their lane and row.
    private(set) var accounts: [(name: String, lane: Int, row: Double)] = []
    /// The artefacts drawn, in the same order, with their lane, row and the number of drawn accounts they join.
    private(set) var artefacts: [(artefact: Indicators.Artefact, lane: Int, row: Double, accounts: Int)] = []
    private(set) var edges: [Edge] = []
    /// Rows of the layout: the tallest lane (the taller column of each of its components, plus gaps).
    private(set) var rows = 0.0
    /// Artefacts with at least one link, before the cap.
    private(set) var artefactsTotal = 0
    /// Artefacts shared by two or more accounts, before the cap.
    private(set) var sharedArtefactsTotal = 0
    /// Accounts linked to a drawn artefact, before the account cap.
    private(set) var candidateAccounts = 0
    /// Links between drawn nodes left out by the per-account cap.
    private(set) var linksNotDrawn = 0

    /// Selects and lays out the graph from `links` (several links of one pair add up): at most `maxArtefacts`
    /// artefacts, `maxAccounts` accounts and `maxLinksPerAccount` links per account, in `lanes` lanes.
    ///
    /// - Complexity: O(l log l) in the number of links.
    init(links: [Link], maxArtefacts: Int, maxAccounts: Int, maxLinksPerAccount: Int, lanes: Int = 1) {
        // Merge links of one pair; an exact (events) link wins over an inferred one.
        var pairs: [Indicators.Artefact: [String: (weight: Int, fromEvents: Bool)]] = [:]
        for l in links {
            let merged: (weight: Int, fromEvents: Bool)
            switch (pairs[l.artefact]?[l.account], l.fromEvents) {
            case (nil, _): merged = (l.weight, l.fromEvents)
            case (let o?, true): merged = o.fromEvents ? (o.weight + l.weight, true) : (l.weight, true)
            case (let o?, false): merged = o.fromEvents ? o : (o.weight + l.weight, false)
            }
            pairs[l.artefact, default: [:]][l.account] = merged
        }
        artefactsTotal = pairs.count
        sharedArtefactsTotal = pairs.values.filter { $0.count >= 2 }.count
        // The most shared artefacts first, then the most used, then by value.
        let rankedArtefacts = pairs.map { entry in
            (artefact: entry.key, accounts: entry.value.count, weight: entry.value.values.reduce(0) { $0 + $1.weight })
        }
        .sorted {
            if $0.accounts != $1.accounts { return $0.accounts > $1.accounts }
            if $0.weight != $1.weight { return $0.weight > $1.weight }
            return $0.artefact < $1.artefact
        }
        let chosenArtefacts = rankedArtefacts.prefix(maxArtefacts).map(\.artefact)
        // Accounts by how many chosen artefacts they link to, then by weight, then by name; shared out over the
        // artefacts in turns (each artefact's best account not yet taken), so that every drawn artefact shows
        // some of its accounts instead of the most shared one taking the whole budget.
        var accountScore: [String: (links: Int, weight: Int)] = [:]
        for a in chosenArtefacts {
            for (account, link) in pairs[a] ?? [:] {
                let old = accountScore[account] ?? (0, 0)
                accountScore[account] = (old.links + 1, old.weight + link.weight)
            }
        }
        candidateAccounts = accountScore.count
        func better(_ x: String, _ y: String) -> Bool {
            let sx = accountScore[x] ?? (0, 0)
            let sy = accountScore[y] ?? (0, 0)
            if sx.links != sy.links { return sx.links > sy.links }
            if sx.weight != sy.weight { return sx.weight > sy.weight }
            return x < y
        }
        let queues = chosenArtefacts.map { a in (pairs[a] ?? [:]).keys.sorted(by: better) }
        var cursors = [Int](repeating: 0, count: queues.count)
        var chosenAccounts = Set<String>()
        var progressed = true
        while chosenAccounts.count < maxAccounts, progressed {
            progressed = false
            for q in queues.indices where chosenAccounts.count < maxAccounts {
                while cursors[q] < queues[q].count, chosenAccounts.contains(queues[q][cursors[q]]) { cursors[q] += 1 }
                guard cursors[q] < queues[q].count else { continue }
                chosenAccounts.insert(queues[q][cursors[q]])
                cursors[q] += 1
                progressed = true
            }
        }

        // The links drawn: between chosen nodes, at most `maxLinksPerAccount` per account, the strongest first
        // (exact before inferred, then by weight, then by the artefact's rank), so that a dense graph stays legible.
        let artefactRank = Dictionary(uniqueKeysWithValues: chosenArtefacts.enumerated().map { ($1, $0) })
        var linksOfAccount: [String: [(artefact: Indicators.Artefact, weight: Int, fromEvents: Bool)]] = [:]
        for a in chosenArtefacts {
            for (account, link) in pairs[a] ?? [:] where chosenAccounts.contains(account) {
                linksOfAccount[account, default: []].append((a, link.weight, link.fromEvents))
            }
        }
        var kept: [Indicators.Artefact: [String: (weight: Int, fromEvents: Bool)]] = [:]
        for (account, links) in linksOfAccount {
            let strongest = links.sorted { x, y in
                if x.fromEvents != y.fromEvents { return x.fromEvents }
                if x.weight != y.weight { return x.weight > y.weight }
                return (artefactRank[x.artefact] ?? 0) < (artefactRank[y.artefact] ?? 0)
            }
            for l in strongest.prefix(maxLinksPerAccount) {
                kept[l.artefact, default: [:]][account] = (l.weight, l.fromEvents)
            }
            linksNotDrawn += max(0, strongest.count - maxLinksPerAccount)
        }

        // Edges of the chosen nodes, and connected components (union-find over artefact and account indices).
        let artefactList = chosenArtefacts.filter { kept[$0] != nil }
        let accountList = chosenAccounts.sorted()
        let accountIndex = Dictionary(uniqueKeysWithValues: accountList.enumerated().map { ($1, $0) })
        var parent = Array(0..<(artefactList.count + accountList.count))
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        var rawEdges: [Edge] = []
        for (ai, a) in artefactList.enumerated() {
            for (account, link) in (kept[a] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let ci = accountIndex[account] else { continue }
                rawEdges.append(Edge(account: ci, artefact: ai, weight: link.weight, fromEvents: link.fromEvents))
                let r1 = find(ai)
                let r2 = find(artefactList.count + ci)
                if r1 != r2 { parent[max(r1, r2)] = min(r1, r2) }
            }
        }
        var components: [Int: (artefacts: [Int], accounts: [Int])] = [:]
        for ai in artefactList.indices { components[find(ai), default: ([], [])].artefacts.append(ai) }
        for ci in accountList.indices {
            components[find(artefactList.count + ci), default: ([], [])].accounts.append(ci)
        }
        let ordered = components.values.sorted {
            if $0.accounts.count != $1.accounts.count { return $0.accounts.count > $1.accounts.count }
            if $0.artefacts.count != $1.artefacts.count { return $0.artefacts.count > $1.artefacts.count }
            return ($0.artefacts.first ?? Int.max) < ($1.artefacts.first ?? Int.max)
        }

        // Layout: rows per component; the shorter column is centred against the taller one.
        var degree = [Int](repeating: 0, count: artefactList.count)
        for e in rawEdges { degree[e.artefact] += 1 }
        var artefactRow = [Double](repeating: 0, count: artefactList.count)
        var accountRow = [Double](repeating: 0, count: accountList.count)
        var artefactsOfAccount = [[Int]](repeating: [], count: accountList.count)
        for e in rawEdges { artefactsOfAccount[e.account].append(e.artefact) }
        var laneTop = [Double](repeating: 0, count: max(1, lanes))
        var artefactLane = [Int](repeating: 0, count: artefactList.count)
        var accountLane = [Int](repeating: 0, count: accountList.count)
        for component in ordered {
            // Artefacts in rank order (the chosen list is ranked already), accounts by barycentre.
            let arts = component.artefacts.sorted()
            var position: [Int: Double] = [:]
            for (k, ai) in arts.enumerated() { position[ai] = Double(k) }
            let accs = component.accounts.sorted { a, b in
                let pa = artefactsOfAccount[a].map { position[$0] ?? 0 }
                let pb = artefactsOfAccount[b].map { position[$0] ?? 0 }
                let ba = pa.isEmpty ? 0 : pa.reduce(0, +) / Double(pa.count)
                let bb = pb.isEmpty ? 0 : pb.reduce(0, +) / Double(pb.count)
                return ba != bb ? ba < bb : accountList[a] < accountList[b]
            }
            let height = Double(max(arts.count, accs.count))
            let artOffset = (height - Double(arts.count)) / 2
            let accOffset = (height - Double(accs.count)) / 2
            // The shortest lane so far (the first of equals).
            let lane = laneTop.indices.min { laneTop[$0] < laneTop[$1] } ?? 0
            let top = laneTop[lane]
            for (k, ai) in arts.enumerated() {
                artefactRow[ai] = top + artOffset + Double(k)
                artefactLane[ai] = lane
            }
            for (k, ci) in accs.enumerated() {
                accountRow[ci] = top + accOffset + Double(k)
                accountLane[ci] = lane
            }
            laneTop[lane] += height + 0.6
        }
        rows = max(0, (laneTop.max() ?? 0) - 0.6)

        // Renumber nodes top to bottom so the output reads in drawing order.
        let artefactOrder = artefactList.indices.sorted {
            (artefactLane[$0], artefactRow[$0]) < (artefactLane[$1], artefactRow[$1])
        }
        let accountOrder = accountList.indices.sorted {
            (accountLane[$0], accountRow[$0]) < (accountLane[$1], accountRow[$1])
        }
        var newArtefact = [Int](repeating: 0, count: artefactList.count)
        var newAccount = [Int](repeating: 0, count: accountList.count)
        for (k, old) in artefactOrder.enumerated() { newArtefact[old] = k }
        for (k, old) in accountOrder.enumerated() { newAccount[old] = k }
        artefacts = artefactOrder.map { (artefactList[$0], artefactLane[$0], artefactRow[$0], degree[$0]) }
        accounts = accountOrder.map { (accountList[$0], accountLane[$0], accountRow[$0]) }
        edges = rawEdges.map {
            Edge(
                account: newAccount[$0.account], artefact: newArtefact[$0.artefact], weight: $0.weight,
                fromEvents: $0.fromEvents)
        }.sorted { ($0.artefact, $0.account) < ($1.artefact, $1.account) }
    }
}
