import SendWatchMetrics
import Testing

@Suite("Connection slots")
struct ConnectionSlotsTests {
    @Test("Slots run out at the bound and come back when released")
    func bound() {
        let slots = ConnectionSlots(max: 2)
        #expect(slots.acquire())
        #expect(slots.acquire())
        #expect(!slots.acquire(), "the third is over the bound")
        #expect(!slots.acquire(), "a refused acquire takes nothing")
        slots.release()
        #expect(slots.acquire())
        #expect(!slots.acquire())
    }
}
