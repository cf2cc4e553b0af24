import CNATS
public import SendWatchPipeline

/// A ``LeaseStore`` on one key of a JetStream key-value bucket, through the C client's KV API: `kvStore_Get`,
/// `kvStore_Create` (only if the key is missing) and `kvStore_Update` (only if the key's latest revision is the
/// one given). The bucket (history 1, file storage) is created when missing.
///
/// Connects at first use, and again while no server answers, as the stream feeds do; once connected the client
/// reconnects by itself and the bucket handle stays usable. Unreachable or slow calls come back as
/// `unavailable`; a write the server refused (a revision that is not the latest) as `conflict`.
public final class NATSLeaseStore: LeaseStore {
    /// The bucket's name, e.g. `SENDWATCH_LEASES`.
    public let bucket: String
    /// The key, e.g. the worker's consumer name.
    public let key: String
    private let url: String
    private let settings: JetStreamClient.Settings
    private var client: JetStreamClient?
    /// `kvStore *`, owned; uses ``client``'s context.
    private var store: OpaquePointer?

    /// A store for `key` of `bucket` on the server(s) at `url` (not connected yet).
    public init(url: String, settings: JetStreamClient.Settings = .init(), bucket: String, key: String) {
        self.url = url
        self.settings = settings
        self.bucket = bucket
        self.key = key
    }

    deinit {
        if let store { kvStore_Destroy(store) }
    }

    public func read() -> LeaseRead {
        do throws(FleetError) {
            let kv = try open()
            var entry: OpaquePointer?
            let status = key.withCString { kvStore_Get(&entry, kv, $0) }
            if status == NATS_NOT_FOUND { return .missing }
            guard status == NATS_OK, let entry else {
                throw fleetError(status, fallback: .consumeFailed, doing: "cannot read lease \(bucket).\(key)")
            }
            defer { kvEntry_Destroy(entry) }
            let length = Int(kvEntry_ValueLen(entry))
            let bytes =
                kvEntry_Value(entry).map { UnsafeRawBufferPointer(start: $0, count: length) }
                ?? UnsafeRawBufferPointer(start: nil, count: 0)
            return .entry(revision: kvEntry_Revision(entry), value: String(decoding: bytes, as: UTF8.self))
        } catch {
            return .unavailable("\(error.code): \(error)")
        }
    }

    public func create(_ value: String) -> LeaseWrite {
        write(value) { kv, keyC, bytes, count, revision in kvStore_Create(revision, kv, keyC, bytes, count) }
    }

    public func update(_ value: String, last: UInt64) -> LeaseWrite {
        write(value) { kv, keyC, bytes, count, revision in kvStore_Update(revision, kv, keyC, bytes, count, last) }
    }

    private func write(
        _ value: String,
        _ call: (OpaquePointer, UnsafePointer<CChar>, UnsafeRawPointer?, Int32, UnsafeMutablePointer<UInt64>) ->
            natsStatus
    ) -> LeaseWrite {
        let kv: OpaquePointer
        do throws(FleetError) {
            kv = try open()
        } catch {
            return .unavailable("\(error.code): \(error)")
        }
        var revision: UInt64 = 0
        let bytes = Array(value.utf8)
        let status = key.withCString { keyC in
            bytes.withUnsafeBytes { call(kv, keyC, $0.baseAddress, Int32($0.count), &revision) }
        }
        if status == NATS_OK { return .written(revision: revision) }
        let error = fleetError(status, fallback: .publishFailed, doing: "cannot write lease \(bucket).\(key)")
        return error.isTransient || error.code == .jetStreamUnavailable
            ? .unavailable("\(error.code): \(error)") : .conflict(error.message)
    }

    /// The bucket, opened (and created when missing) on a connection made now if there was none.
    private func open() throws(FleetError) -> OpaquePointer {
        if let store { return store }
        let connected: JetStreamClient
        if let client {
            connected = client
        } else {
            connected = try JetStreamClient(url: url, settings: settings)
            client = connected
        }
        var kv: OpaquePointer?
        var status = bucket.withCString { js_KeyValue(&kv, connected.context, $0) }
        if status == NATS_NOT_FOUND {
            status = bucket.withCString { name in
                var config = kvConfig()
                kvConfig_Init(&config)
                config.Bucket = name
                config.History = 1
                config.StorageType = js_FileStorage
                return js_CreateKeyValue(&kv, connected.context, &config)
            }
        }
        guard status == NATS_OK, let kv else {
            throw fleetError(status, fallback: .streamSetupFailed, doing: "cannot open lease bucket \(bucket)")
        }
        store = kv
        return kv
    }
}

@available(*, unavailable)
extension NATSLeaseStore: Sendable {}
