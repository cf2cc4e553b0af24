import SendWatchCore

/// What an Exim message saves in a ``SavedMessageTable``.
///
/// The id is the Exim message id (its table key and hash are made again from it and the saved host hash); the
/// scope is the host hash (``EximMessageKey/host``, 0 for mainlog lines); the time is the latest line's, in
/// seconds. The flags hold the ``EximMessageState/Phase`` raw value in the low four bits and the account header's
/// trust (``EximMessageState/headerTrust``, a ``HeaderTrust`` raw value) in the next two: the trust is decided at
/// the message's first delivery and kept, so that a restart (perhaps with other trusted logins or networks)
/// cannot change the account of the message's later deliveries. The sender is never `nil` (`""` when none was
/// logged). A message's set of more than 32 recipient hashes (``Bytes/hash(_:_:)``, fixed FNV-1a) is saved
/// sorted, so equal states give equal checkpoints.
enum EximMessageCoding: SavedMessageCoding {
    /// The bits of a flags byte that hold the phase, and where the header trust starts.
    static let phaseMask: UInt8 = 0x0F
    static let trustShift: UInt8 = 4

    static var columnNames: (ids: String, scopes: String, times: String, flags: String) {
        ("messageIDs", "hosts", "lastSeenSeconds", "phases")
    }
    static let stringFields: [SavedStringField<EximMessageState>] = [
        .init("accountHeader", \.accountHeader), .init("template", \.template), .init("authenticated", \.authenticated),
        .init("localUser", \.localUser), .init("sender", required: \.sender), .init("subject", \.subject),
        .init("messageIDHeader", \.messageID), .init("clientIP", \.clientIP),
    ]
    static var idKind: String { "an Exim message id" }
    static var maxRecipients: Int { Int(Int32.max) }

    static func isValidID(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        EximMessageID.isMessageID(bytes, range)
    }

    static func flagsProblem(_ flags: UInt8) -> String? {
        if EximMessageState.Phase(rawValue: flags & phaseMask) == nil {
            return "unknown message phase \(flags & phaseMask)"
        }
        let trust = flags >> trustShift
        if trust > 0 && HeaderTrust(rawValue: trust) == nil { return "unknown header trust \(trust)" }
        return nil
    }

    static func columns(of s: EximMessageState) -> (id: String, scope: UInt64, time: Int64, flags: UInt8) {
        (s.queueID, s.key.host, s.lastTouched, s.phase.rawValue | s.headerTrust.rawValue << trustShift)
    }

    static func appendRecipients(of s: EximMessageState, to list: inout [UInt64]) {
        if let large = s.attemptedLarge {
            list.append(contentsOf: large.sorted())
        } else {
            list.append(contentsOf: s.attempted)
        }
    }

    static func message(_ saved: SavedMessage) -> EximMessageState {
        let host = saved.scope
        let (key, hash) = Array(saved.id.utf8).withUnsafeBytes { p in
            (
                EximMessageKey(p, 0..<p.count, host: host),
                EximParser.keyHash(idHash: Bytes.hash(p, 0..<p.count), host: host)
            )
        }
        var s = EximMessageState(
            key: key, hash: hash, seconds: saved.time,
            phase: EximMessageState.Phase(rawValue: saved.flags & phaseMask) ?? .pending, queueID: saved.id)
        s.headerTrust = HeaderTrust(rawValue: saved.flags >> trustShift) ?? .undecided
        // The table switches to a set after 32 recipients; the same bound decides the form here.
        if saved.recipients.count > EximMessageState.maxAttemptedInArray {
            s.attemptedLarge = Set(saved.recipients)
        } else {
            s.attempted = Array(saved.recipients)
        }
        return s
    }
}
