import SendWatchCore
import Testing

@Suite("SlotArray")
struct SlotArrayTests {
    @Test("storeInFreeSlot reuses the slot freed last, and appends only when none is free")
    func reusesFreedSlots() {
        var slots = ["a", "b", "c"]
        var free: [Int32] = [0, 2]
        #expect(slots.storeInFreeSlot("x", free: &free) == (2, false))
        #expect(slots == ["a", "b", "x"] && free == [0])
        #expect(slots.storeInFreeSlot("y", free: &free) == (0, false))
        #expect(slots == ["y", "b", "x"] && free.isEmpty)
        #expect(slots.storeInFreeSlot("z", free: &free) == (3, true))
        #expect(slots == ["y", "b", "x", "z"] && free.isEmpty)
    }
}
