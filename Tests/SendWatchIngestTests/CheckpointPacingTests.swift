import SendWatchIngest
import Testing

@Suite("Checkpoint pacing")
struct CheckpointPacingTests {
    @Test("A quick checkpoint keeps the configured interval")
    func quick() {
        #expect(CheckpointPacing.intervalSeconds(configured: 30, lastDurationSeconds: 0) == 30)
        #expect(CheckpointPacing.intervalSeconds(configured: 30, lastDurationSeconds: 1.5) == 30)
        #expect(CheckpointPacing.intervalSeconds(configured: 1, lastDurationSeconds: 0.05) == 1)
    }

    @Test("A slow checkpoint stretches the interval to 20 times its duration")
    func slow() {
        #expect(CheckpointPacing.intervalSeconds(configured: 30, lastDurationSeconds: 2) == 40)
        #expect(CheckpointPacing.intervalSeconds(configured: 1, lastDurationSeconds: 0.5) == 10)
        #expect(CheckpointPacing.durationFactor == 20)
    }
}
