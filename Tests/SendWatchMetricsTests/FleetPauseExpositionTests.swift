import SendWatchMetrics
import SendWatchPipeline
import Testing

/// The lease fence's pause as `detect --metrics` and `forward --metrics` show it.
@Suite
struct FleetPauseExpositionTests {
    @Test("forward: a paused partition's gauge is 1, the others 0, and the pauses are counted")
    func forwardPaused() {
        var s = ForwardMetricsSnapshot()
        s.pauses = 3
        var p0 = ForwardPartitionFigures(partition: 0)
        p0.held = true
        p0.paused = true
        var p1 = ForwardPartitionFigures(partition: 1)
        p1.held = true
        s.partitions = [p0, p1]
        let text = String(decoding: MetricsExposition.render(s), as: UTF8.self)
        #expect(text.contains("sendwatch_forward_pauses_total 3\n"))
        #expect(text.contains("sendwatch_forward_partition_paused{partition=\"0\"} 1.0\n"))
        #expect(text.contains("sendwatch_forward_partition_paused{partition=\"1\"} 0.0\n"))
        #expect(text.contains("# TYPE sendwatch_forward_partition_paused gauge\n"))
    }

    @Test("detect: the publish fence's gauge and count, shown with a lease only")
    func detectPaused() {
        var s = DetectMetricsSnapshot()
        s.publishPaused = true
        s.publishPauses = 2
        #expect(!String(decoding: MetricsExposition.render(s), as: UTF8.self).contains("publish_pause"))
        s.lease = LeaseFigures()
        let text = String(decoding: MetricsExposition.render(s), as: UTF8.self)
        #expect(text.contains("sendwatch_detect_publish_paused 1.0\n"))
        #expect(text.contains("sendwatch_detect_publish_pauses_total 2\n"))
        #expect(text.contains("# TYPE sendwatch_detect_publish_pauses_total counter\n"))
    }
}
