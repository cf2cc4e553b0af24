import Foundation
import SendWatchIngest
import Testing

/// A ring of integers handed over through a gate; the slots live outside the gate, as in its users.
private final class IntRing: @unchecked Sendable {
    let gate: HandoffGate
    var slots: [Int]
    init(capacity: Int) {
        gate = HandoffGate(capacity: capacity)
        slots = Array(repeating: -1, count: capacity)
    }
}

@Suite("Handoff gate")
struct HandoffGateTests {
    @Test(
        "Items arrive in order and none is lost, whichever side is slower; close ends the consumer",
        arguments: [(1, 0, 50), (4, 50, 0), (8, 0, 0), (3, 20, 20)])
    func order(capacity: Int, producerPauseMicroseconds: Int, consumerPauseMicroseconds: Int) {
        let ring = IntRing(capacity: capacity)
        let count = 2000
        let producer = Thread {
            for value in 0..<count {
                guard let index = ring.gate.reserve() else { return }
                // Written in `publish`'s closure, under the lock: the slots are a Swift array shared by both threads.
                ring.gate.publish(urgent: value % 97 == 0) { ring.slots[index] = value }
                if producerPauseMicroseconds > 0 && value % 50 == 0 { usleep(UInt32(producerPauseMicroseconds)) }
            }
            ring.gate.close()
        }
        producer.start()
        var received: [Int] = []
        while let value = ring.gate.next({ ring.slots[$0] }) {
            received.append(value)
            ring.gate.release()
            if consumerPauseMicroseconds > 0 && value % 50 == 0 { usleep(UInt32(consumerPauseMicroseconds)) }
        }
        #expect(received == Array(0..<count))
    }

    @Test("After cancel the producer gets no slot, even when it was waiting for one")
    func cancel() {
        let gate = HandoffGate(capacity: 2)
        #expect(gate.reserve() == 0)
        gate.publish(urgent: false)
        #expect(gate.reserve() == 1)
        gate.publish(urgent: false)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var third: Int? = 42
        // The ring is full: this reserve waits until the cancel below.
        Thread {
            third = gate.reserve()
            done.signal()
        }.start()
        usleep(20_000)
        gate.cancel()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(third == nil)
        // What was published is still there for the consumer.
        #expect(gate.next({ $0 }) == 0)
    }
}
