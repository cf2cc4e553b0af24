import SendWatchCore
import Testing

@Suite("RecencyList")
struct RecencyListTests {
    /// The nodes from the oldest to the newest, walked through the `newer` links; the `older` links are checked on
    /// the way (each node's older neighbour is the one walked before it).
    static func order(_ list: RecencyList) -> [Int32] {
        var result: [Int32] = []
        var previous: Int32 = -1
        var i = list.oldest
        while i >= 0 && result.count <= list.nodeCount {
            #expect(list.older[Int(i)] == previous, "older link of \(i)")
            result.append(i)
            previous = i
            i = list.newer[Int(i)]
        }
        #expect(previous == list.newest)
        return result
    }

    /// A model of the list: the nodes on it, oldest first.
    struct Model {
        var nodes: [Int32] = []
        mutating func linkNewest(_ i: Int32) { nodes.append(i) }
        mutating func unlink(_ i: Int32) { nodes.removeAll { $0 == i } }
        mutating func touch(_ i: Int32) {
            unlink(i)
            linkNewest(i)
        }
    }

    @Test("Linking, touching and unlinking keep the order a plain array model keeps", arguments: [Int32(-1), -2])
    func followsModel(detached: Int32) {
        var list = RecencyList(detached: detached)
        var model = Model()
        var onList = [Bool]()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let pick = Int(seed >> 33)
            if onList.count < 12 && pick % 5 == 0 {
                let i = list.appendNode()
                #expect(Int(i) == onList.count && list.older[Int(i)] == detached && list.newer[Int(i)] == detached)
                onList.append(false)
                continue
            }
            guard !onList.isEmpty else { continue }
            let i = Int32(pick % onList.count)
            if !onList[Int(i)] {
                list.linkNewest(i)
                model.linkNewest(i)
                onList[Int(i)] = true
            } else if pick % 3 == 0 {
                list.unlink(i)
                model.unlink(i)
                onList[Int(i)] = false
                #expect(list.older[Int(i)] == detached && list.newer[Int(i)] == detached)
            } else {
                list.touch(i)
                model.touch(i)
            }
            #expect(Self.order(list) == model.nodes)
            #expect(list.oldest == (model.nodes.first ?? -1) && list.newest == (model.nodes.last ?? -1))
        }
    }

    /// With ``RecencyList/detached`` -1 a node alone on the list has the same links as a node off it (-1, -1):
    /// only the ends tell them apart, and the debug build's check of `unlink` and `touch` (that the node is on the
    /// list) must accept it. A wrong check stops this test's process.
    @Test("A node alone on the list is touched and unlinked", arguments: [Int32(-1), -2])
    func aloneOnTheList(detached: Int32) {
        var list = RecencyList(detached: detached)
        let a = list.appendNode()
        let b = list.appendNode()
        list.linkNewest(b)
        #expect(list.older[Int(b)] == -1 && list.newer[Int(b)] == -1)
        list.touch(b)
        list.unlink(b)
        #expect(list.oldest == -1 && list.newest == -1 && Self.order(list).isEmpty)
        list.linkNewest(a)
        list.linkNewest(b)
        list.unlink(b)
        list.touch(a)
        list.unlink(a)
        #expect(Self.order(list).isEmpty)
        #expect(list.older == [detached, detached] && list.newer == [detached, detached])
    }

    @Test("A restored list continues as the saved one")
    func restores() {
        var list = RecencyList(detached: -2)
        for _ in 0..<4 { _ = list.appendNode() }
        for i: Int32 in [2, 0, 3] { list.linkNewest(i) }
        var restored = RecencyList(
            older: list.older, newer: list.newer, oldest: list.oldest, newest: list.newest, detached: -2)
        list.touch(2)
        restored.touch(2)
        #expect(Self.order(restored) == [0, 3, 2] && Self.order(list) == Self.order(restored))
        #expect(restored.older[1] == -2 && restored.newer[1] == -2)
    }
}
