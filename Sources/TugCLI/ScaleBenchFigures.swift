import Foundation
import Synchronization
import TugOS

/// What `tug bench scale` records while it runs: per pod when it was first seen, bound and Running; which nodes ever
/// stopped being Ready.
final class ScaleTimeline: Sendable {
    struct Pod {
        var seen: ContinuousClock.Instant
        var bound: ContinuousClock.Instant?
        var running: ContinuousClock.Instant?
    }

    let pods = Mutex<[String: Pod]>([:])
    let notReady = Mutex<Set<String>>([])
    let counts = Mutex<(seen: Int, bound: Int, running: Int)>((0, 0, 0))

    func observe(uid: String, bound: Bool, running: Bool, at now: ContinuousClock.Instant) {
        pods.withLock { pods in
            var pod = pods[uid] ?? Pod(seen: now)
            let isNew = pods[uid] == nil
            var newlyBound = false, newlyRunning = false
            if bound, pod.bound == nil { pod.bound = now; newlyBound = true }
            if running, pod.running == nil { pod.running = now; newlyRunning = true }
            pods[uid] = pod
            counts.withLock { c in
                if isNew { c.seen += 1 }
                if newlyBound { c.bound += 1 }
                if newlyRunning { c.running += 1 }
            }
        }
    }

    /// Percentiles (0…1) of `values`, sorted.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
    }
}

/// Request latency per verb and resource from the server's `apiserver_request_duration_seconds` histogram, as
/// clusterloader2's API responsiveness measurement reads it (percentiles interpolated within buckets).
struct APILatency {
    struct Row {
        var verb: String
        var resource: String
        var count: Double
        var p50: Double
        var p99: Double
    }

    static func rows(metrics: String, histogram: String = "apiserver_request_duration_seconds") -> [Row] {
        let prefix = histogram + "_bucket{"
        // (verb, resource) → [(le, cumulative count)]
        var buckets: [String: [(Double, Double)]] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix(prefix) {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}"),
                  let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) else { continue }
            var labels: [String: String] = [:]
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                labels[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            guard let le = labels["le"].flatMap({ $0 == "+Inf" ? Double.infinity : Double($0) }) else { continue }
            let resource = (labels["resource"] ?? "") + ((labels["subresource"] ?? "").isEmpty ? "" : "/" + labels["subresource"]!)
            buckets["\(labels["verb"] ?? "") \(resource)", default: []].append((le, value))
        }
        return buckets.compactMap { key, points in
            let sorted = points.sorted { $0.0 < $1.0 }
            guard let total = sorted.last?.1, total > 0 else { return nil }
            let parts = key.split(separator: " ", maxSplits: 1)
            return Row(verb: String(parts[0]), resource: parts.count > 1 ? String(parts[1]) : "", count: total,
                       p50: quantile(0.5, sorted), p99: quantile(0.99, sorted))
        }.sorted { $0.count > $1.count }
    }

    /// The `q` quantile of a cumulative histogram, linear within its bucket (the last finite bound when it falls
    /// in +Inf).
    static func quantile(_ q: Double, _ buckets: [(Double, Double)]) -> Double {
        guard let total = buckets.last?.1, total > 0 else { return 0 }
        let rank = q * total
        var lower = 0.0, below = 0.0
        for (bound, cumulative) in buckets {
            if cumulative >= rank {
                guard bound.isFinite else { return lower }
                let inBucket = cumulative - below
                return inBucket > 0 ? lower + (bound - lower) * (rank - below) / inBucket : bound
            }
            lower = bound.isFinite ? bound : lower
            below = cumulative
        }
        return lower
    }
}

/// CPU time and descriptors of a process, from /proc.
enum ProcessFigures {
    /// User plus system CPU seconds so far.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = ProcFS.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func openDescriptors(pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }
}
