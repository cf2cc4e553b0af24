import Foundation
import SendWatchCore
import SendWatchTesting
import Testing

@testable import SendWatchDetect

@Suite struct SortedColumnsTests {
    /// Saved as two fields before, as one `SortedColumns` since: the checkpoint's bytes must not change.
    struct TwoArrays: Codable {
        var keys: [String]
        var values: [Int64]
    }

    @Test("A saved dictionary writes the bytes of its sorted keys and values as two arrays, and reads them back")
    func layout() throws {
        let dictionary: [String: Int64] = ["url": 3, "money": 1, "phone": 7, "urgency": 2]
        let columns = SortedColumns(dictionary)
        #expect(columns.keys == ["money", "phone", "urgency", "url"])
        #expect(columns.values == [1, 7, 2, 3])
        let old = TwoArrays(keys: ["money", "phone", "urgency", "url"], values: [1, 7, 2, 3])
        #expect(try encodedState(columns) == encodedState(old))
        #expect(try decodedState(SortedColumns<String, Int64>.self, from: encodedState(old)).dictionary == dictionary)
        #expect(try roundTrip(SortedColumns([UInt64: Int64]())).dictionary.isEmpty)
    }

    @Test("Keys and values that differ in number, or a repeated key, throw when decoded")
    func damaged() throws {
        let columns = SortedColumns(["a": Int64(1), "b": 2])
        _ = try decodeDamaged(columns) { _ in }
        let edits: [(inout [String: Any]) -> Void] = [
            { $0["values"] = [Int64(1)] },
            { $0["keys"] = ["a", "a"] },
        ]
        for (i, edit) in edits.enumerated() {
            #expect(throws: DecodingError.self, "edit \(i)") { try decodeDamaged(columns, edit) }
        }
    }
}
