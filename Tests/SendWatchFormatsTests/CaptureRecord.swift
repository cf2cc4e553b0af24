import Foundation

/// One record of a real capture's `sent.jsonl` (schema in the shared corpora's SOURCES.md): what the sender
/// actually submitted, the ground truth the Postfix and Exim capture tests check the parsers against.
struct CaptureRecord: Decodable {
    struct Result: Decodable { var queueId: String? }
    var seq: Int
    var sentAt: String
    var scenario: String
    var method: String?
    var clientIp: String?
    var saslUsername: String?
    var localUidUser: String?
    var envelopeFrom: String?
    var accountIds: [String]?
    var subject: String?
    var subjectHeaderRaw: String?
    var messageId: String?
    var expected: [String: String]?
    var result: Result?

    /// Decodes a `sent.jsonl` file, one record per line.
    static func decodeLines(_ data: Data) throws -> [CaptureRecord] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try decoder.decode(CaptureRecord.self, from: Data($0))
        }
    }
}
