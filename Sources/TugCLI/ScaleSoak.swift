import Foundation
import Synchronization
import TugAPIMachinery
import TugClient
import TugControllerRuntime
import TugSim

/// The soak phase of `tug bench scale --duration`: with every pod Running, `watchers` watches stay open on the pods
/// of the Deployments (each on one Deployment's label, from the current revision, as controllers and dashboards
/// watch), and `churn` pods a second are deleted for their ReplicaSets to replace. Every 30 s it samples the
/// server's memory and descriptors; at the end it reports their drift, the replaced pods' startup latency and
/// whether every watcher was still receiving events.
struct ScaleSoak {
    let client: RESTClient
    let watchClient: RESTClient
    let pid: Int32
    let timeline: ScaleTimeline
    let leases: LeaseStats
    let duration: Duration
    let watchers: Int
    let churn: Int
    let deployments: Int

    struct Sample {
        var at: Duration
        var rssMiB: Double
        var descriptors: Int
        /// Live heap (jemalloc's `stats.allocated`, from the server's `/metrics`): tells a leak from pages kept.
        var heapMiB: Double?
        /// The store's writer loop so far (from `/metrics`).
        var storage: StorageFigures?
    }

    final class WatchCounts: Sendable {
        let events = Atomic<Int>(0)
        let open = Atomic<Int>(0)
        let reconnects = Atomic<Int>(0)
        /// Watchers that received at least one event since the last sample, by index.
        let heard = Mutex<Set<Int>>([])
    }

    func run() async throws {
        let counts = WatchCounts()
        let started = ContinuousClock.now
        let end = started + duration
        var samples: [Sample] = []
        var deleted = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<watchers {
                group.addTask { await self.watch(index: i, until: end, counts: counts) }
            }
            let opening = ContinuousClock.now + .seconds(120)
            while counts.open.load(ordering: .relaxed) < watchers, ContinuousClock.now < opening {
                try await Task.sleep(for: .milliseconds(200))
            }
            ScaleBench.say("soak: \(counts.open.load(ordering: .relaxed)) of \(watchers) watchers open; deleting \(churn) pods/s for \(Int(duration.seconds)) s")
            samples.append(await sample(at: .zero))
            var nextSample = ContinuousClock.now + .seconds(30)
            var round = 0
            while ContinuousClock.now < end {
                let tick = ContinuousClock.now
                if churn > 0 { deleted += await deletePods(round: round) }
                round += 1
                if ContinuousClock.now >= nextSample {
                    nextSample += .seconds(30)
                    let s = await sample(at: ContinuousClock.now - started)
                    let heard = counts.heard.withLock { h in defer { h.removeAll() }; return h.count }
                    // Nodes lost so far, so a loss can be placed in time (574 were lost in a soak that said only so at its end).
                    let lost = timeline.notReady.withLock { $0.count }
                    ScaleBench.say(String(format: "  soak t=%.0f s: RSS %.0f MiB (live heap %@), %d descriptors, %d watchers open (%d heard an event in 30 s), %d events, %d pods deleted, %d nodes ever NotReady; leases: %@",
                                          s.at.seconds, s.rssMiB, s.heapMiB.map { String(format: "%.0f MiB", $0) } ?? "unknown", s.descriptors, counts.open.load(ordering: .relaxed), heard,
                                          counts.events.load(ordering: .relaxed), deleted, lost, leases.snapshot().description))
                    // The last 30 s of the store's writer, where a stall shows before nodes are lost.
                    if let storage = s.storage { ScaleBench.say("    store, last 30 s: \(storage.since(samples.last?.storage).description)") }
                    samples.append(s)
                }
                try? await Task.sleep(until: tick + .seconds(1))
            }
            group.cancelAll()
        }
        report(samples: samples, started: started, deleted: deleted, counts: counts)
    }

    /// One watcher: the pods of one Deployment from the current revision; re-opened when the server ends it, as a
    /// reflector would.
    func watch(index: Int, until end: ContinuousClock.Instant, counts: WatchCounts) async {
        let selector = "labelSelector=app%3Dload-\(index % max(1, deployments))"
        while ContinuousClock.now < end, !Task.isCancelled {
            // The current revision, from a one-item page without a selector (what it costs does not grow with the pods).
            guard let list = try? await client.send(.GET, "/api/v1/namespaces/bench-scale/pods?limit=1"),
                  let revision = list["metadata"]["resourceVersion"].stringValue else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            counts.open.add(1, ordering: .relaxed)
            // Counted, not decoded: the watchers share the machine with the server, and decoding every event took
            // 45 % of this process's CPU (a third of a core) away from it.
            try? await watchClient.watchLines("/api/v1/namespaces/bench-scale/pods?watch=1&allowWatchBookmarks=true&resourceVersion=\(revision)&\(selector)") { _ in
                counts.events.add(1, ordering: .relaxed)
                _ = counts.heard.withLock { $0.insert(index) }
                return ContinuousClock.now < end
            }
            counts.open.subtract(1, ordering: .relaxed)
            if ContinuousClock.now < end { counts.reconnects.add(1, ordering: .relaxed) }
        }
    }

    /// Deletes `churn` pods of one Deployment (round-robin) at once; returns how many went.
    func deletePods(round: Int) async -> Int {
        let selector = "labelSelector=app%3Dload-\(round % max(1, deployments))"
        guard let list = try? await client.send(.GET, "/api/v1/namespaces/bench-scale/pods?limit=\(churn)&\(selector)") else { return 0 }
        let names = (list["items"].arrayValue ?? []).filter { $0["metadata"]["deletionTimestamp"].isNull }.map(\.name)
        // All at once, as a controller or a user scaling down would: one after the other, a round took longer
        // than its second once the server's latency grew.
        return await withTaskGroup(of: Bool.self) { group in
            for name in names {
                group.addTask {
                    (try? await client.request(.DELETE, "/api/v1/namespaces/bench-scale/pods/\(name)?gracePeriodSeconds=0"))?.status ?? 500 < 300
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
    }

    func sample(at: Duration) async -> Sample {
        var metrics = ""
        if let body = try? await client.request(.GET, "/metrics").body {
            metrics = body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""
        }
        return Sample(at: at, rssMiB: PodBench.memory(pid: pid).rss, descriptors: ProcessFigures.openDescriptors(pid: pid),
                      heapMiB: HeapFigures(metrics: metrics).map { Double($0.allocated) / 1_048_576 }, storage: StorageFigures(metrics: metrics))
    }

    func report(samples: [Sample], started: ContinuousClock.Instant, deleted: Int, counts: WatchCounts) {
        guard let first = samples.first, let last = samples.last else { return }
        let replaced = timeline.pods.withLock { pods in pods.values.filter { $0.seen > started } }
        let startup = replaced.compactMap { r in r.running.map { ($0 - r.seen).seconds } }.sorted()
        ScaleBench.say(String(format: "soak over %.0f s: %d pods deleted, %d replacements Running, startup p50 %.2f s, p99 %.2f s",
                              (ContinuousClock.now - started).seconds, deleted, startup.count,
                              ScaleTimeline.percentile(startup, 0.5), ScaleTimeline.percentile(startup, 0.99)))
        let peak = samples.map(\.descriptors).max() ?? last.descriptors
        ScaleBench.say(String(format: "soak: server descriptors %d at start, %d at the end (peak %d); RSS %.0f → %.0f MiB (peak %.0f)",
                              first.descriptors, last.descriptors, peak, first.rssMiB, last.rssMiB, samples.map(\.rssMiB).max() ?? last.rssMiB))
        if let from = first.heapMiB, let to = last.heapMiB {
            ScaleBench.say(String(format: "soak: live heap %.0f → %.0f MiB (peak %.0f)", from, to, samples.compactMap(\.heapMiB).max() ?? to))
        }
        ScaleBench.say("soak: \(counts.events.load(ordering: .relaxed)) watch events to \(watchers) watchers, \(counts.reconnects.load(ordering: .relaxed)) watches re-opened after the server ended them")
    }
}
