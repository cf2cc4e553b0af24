import CNATS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The settings of a JetStream stream the fleet writes: file storage, one replica unless said otherwise.
public struct StreamSpec: Sendable, Equatable, CustomStringConvertible {
    /// The stream's name (letters, digits, `-` and `_`; at most 64 bytes).
    public var name: String
    /// The subjects it takes, wildcards allowed (at most 16).
    public var subjects: [String]
    /// How long the server remembers message ids to drop duplicates, in seconds (1 s to 1 day). It must be
    /// longer than the longest time a publisher may take to repeat a publish (a restart after a crash).
    /// Default 600.
    public var duplicateWindowSeconds: Int
    /// Bytes the stream may hold before the oldest messages go; -1: no limit. Default -1.
    public var maxBytes: Int64
    /// Replicas of each message in a NATS cluster (1 to 5). Default 1.
    public var replicas: Int
    /// Messages kept per subject (a new one replaces the oldest); -1: no limit. Default -1.
    public var maxMessagesPerSubject: Int64 = -1

    /// A stream named `name` taking `subjects`.
    public init(
        name: String, subjects: [String], duplicateWindowSeconds: Int = 600, maxBytes: Int64 = -1, replicas: Int = 1
    ) {
        self.name = name
        self.subjects = subjects
        self.duplicateWindowSeconds = duplicateWindowSeconds
        self.maxBytes = maxBytes
        self.replicas = replicas
    }

    /// Whether every setting is in its documented range.
    var isValid: Bool {
        let nameOK =
            !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || isalnum(Int32($0)) != 0 }
        return nameOK && (1...16).contains(subjects.count) && subjects.allSatisfy { !$0.isEmpty && !$0.contains(" ") }
            && (1...86_400).contains(duplicateWindowSeconds) && (maxBytes == -1 || maxBytes > 0)
            && (1...5).contains(replicas) && (maxMessagesPerSubject == -1 || maxMessagesPerSubject > 0)
    }

    /// Calls `body` with the C configuration (its strings valid only during the call).
    func withConfig<R>(_ body: (UnsafeMutablePointer<jsStreamConfig>) -> R) -> R {
        var cStrings: [UnsafePointer<CChar>?] = subjects.map { UnsafePointer(strdup($0)) }
        let nameC = strdup(name)
        defer {
            for s in cStrings { free(UnsafeMutablePointer(mutating: s)) }
            free(nameC)
        }
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        config.Name = UnsafePointer(nameC)
        config.SubjectsLen = Int32(subjects.count)
        config.Storage = js_FileStorage
        config.Duplicates = Int64(duplicateWindowSeconds) * 1_000_000_000
        config.MaxBytes = maxBytes
        config.Replicas = Int64(replicas)
        config.MaxMsgsPerSubject = maxMessagesPerSubject
        return cStrings.withUnsafeMutableBufferPointer { subjectsC in
            config.Subjects = subjectsC.baseAddress
            return body(&config)
        }
    }

    /// The settings, for messages.
    public var description: String {
        "stream \(name) subjects \(subjects.joined(separator: ",")) duplicate window \(duplicateWindowSeconds) s, "
            + "max bytes \(maxBytes), replicas \(replicas), max messages per subject \(maxMessagesPerSubject)"
    }
}
