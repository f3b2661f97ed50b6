import Testing
@testable import TugCLI

@Suite struct HeapFiguresTests {
    /// `tug` links jemalloc (Sources/CJemalloc), so it is the allocator of this process too, and its figures follow
    /// what the process holds.
    @Test func jemallocIsTheAllocatorAndCountsWhatIsHeld() throws {
        let before = try #require(HeapFigures.read(), "jemalloc did not answer mallctl: is libjemalloc linked?")
        let held = [UInt8](repeating: 1, count: 32 << 20)
        let after = try #require(HeapFigures.read())
        #expect(after.allocated >= before.allocated + (32 << 20) - (1 << 20))
        #expect(after.active >= after.allocated)
        #expect(after.resident >= after.active)
        #expect(held.count == 32 << 20)
    }

    @Test func figuresSurviveTheMetricsText() throws {
        let figures = try #require(HeapFigures.read())
        let text = "apiserver_request_total{verb=\"GET\"} 3\n" + HeapFigures.metricsText()
        let parsed = try #require(HeapFigures(metrics: text))
        // Read twice, so only the order of magnitude is the same; the parser must find all four.
        #expect(parsed.allocated > 0 && parsed.resident >= parsed.allocated / 2)
        #expect(figures.metadata > 0 && parsed.metadata > 0)
        #expect(HeapFigures(metrics: "apiserver_request_total 3\n") == nil)
    }
}
