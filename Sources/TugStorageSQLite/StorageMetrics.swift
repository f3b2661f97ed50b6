import Metrics
import TugAPIMachinery

/// Where the store's writer loop spends its time, for `/metrics`: one histogram, `tug_storage_duration_seconds`,
/// with a `step` for each part of a write's way — waiting in the queue for the writer (`queue`, per write), then per
/// batch validating and encoding against memory (`prepare`), the SQLite transaction up to its fsync
/// (`transaction`), applying it to memory (`apply`, after which it is acknowledged), handing its events to watchers
/// (`publish`, overlapping the next batch) — and for each compaction slice (`compact`, which the writer runs between
/// batches). With the batch and write counters they tell a slow disk from a busy loop.
public struct StorageMetrics: Sendable {
    public static let durationLabel = "tug_storage_duration_seconds"

    let queue = Timer(label: durationLabel, dimensions: [("step", "queue")], preferredDisplayUnit: .seconds)
    let prepare = Timer(label: durationLabel, dimensions: [("step", "prepare")], preferredDisplayUnit: .seconds)
    let transaction = Timer(label: durationLabel, dimensions: [("step", "transaction")], preferredDisplayUnit: .seconds)
    let apply = Timer(label: durationLabel, dimensions: [("step", "apply")], preferredDisplayUnit: .seconds)
    let publish = Timer(label: durationLabel, dimensions: [("step", "publish")], preferredDisplayUnit: .seconds)
    let compact = Timer(label: durationLabel, dimensions: [("step", "compact")], preferredDisplayUnit: .seconds)
    let batches = Counter(label: "tug_storage_batches_total")
    let writes = Counter(label: "tug_storage_writes_total")
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant, until end: ContinuousClock.Instant) {
        recordNanoseconds(max(0, (end - start).nanoseconds))
    }
}
