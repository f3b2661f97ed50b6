import Testing
@testable import TugCLI

@Suite struct StorageFiguresTests {
    static func text(queue: [Double], batches: Int, writes: Int) -> String {
        let bounds = ["0.001", "0.01", "0.1", "1.0", "+Inf"]
        var lines = ["# TYPE tug_storage_duration_seconds histogram"]
        for (le, count) in zip(bounds, queue) { lines.append("tug_storage_duration_seconds_bucket{step=\"queue\",le=\"\(le)\"} \(count)") }
        for le in bounds { lines.append("tug_storage_duration_seconds_bucket{step=\"compact\",le=\"\(le)\"} 0") }
        lines += ["tug_storage_batches_total \(batches)", "tug_storage_writes_total \(writes)", "apiserver_request_total{verb=\"GET\"} 3"]
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func readsAWindowBetweenTwoReadings() throws {
        let earlier = try #require(StorageFigures(metrics: Self.text(queue: [100, 100, 100, 100, 100], batches: 10, writes: 100)))
        // Since then: 100 more writes, all of them between 0.1 s and 1 s in the queue.
        let later = try #require(StorageFigures(metrics: Self.text(queue: [100, 100, 100, 200, 200], batches: 30, writes: 200)))
        let window = later.since(earlier)
        #expect(window.batches == 20 && window.writes == 100)
        let p99 = APILatency.quantile(0.99, try #require(window.steps["queue"]))
        #expect(p99 > 0.1 && p99 <= 1)
        // Since start-up the same p99 is diluted by the fast first hundred.
        #expect(APILatency.quantile(0.5, try #require(later.steps["queue"])) <= 0.001)
        #expect(window.description.hasPrefix("queue p99 "))
        #expect(window.description.hasSuffix("; 20 batches of 5.0 writes"))
        // A step that never ran is left out.
        #expect(!window.description.contains("compact"))
    }

    @Test func noFiguresWithoutTheHistogram() {
        #expect(StorageFigures(metrics: "apiserver_request_total 3\n") == nil)
    }
}
