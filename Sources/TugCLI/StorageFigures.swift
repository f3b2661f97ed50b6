import Foundation

/// The store's writer loop as `/metrics` shows it (`tug_storage_duration_seconds` per step, batches and writes), and
/// what changed between two readings: in a soak, the last window's figures, not the averages since start-up.
struct StorageFigures {
    /// step → cumulative (upper bound, count), sorted by bound.
    var steps: [String: [(Double, Double)]] = [:]
    var batches = 0.0
    var writes = 0.0

    init?(metrics: String) {
        let bucket = "tug_storage_duration_seconds_bucket{"
        for line in metrics.split(separator: "\n") {
            if line.hasPrefix(bucket) {
                guard let (labels, value) = Self.sample(line), let step = labels["step"],
                      let le = labels["le"].flatMap({ $0 == "+Inf" ? Double.infinity : Double($0) }) else { continue }
                steps[step, default: []].append((le, value))
            } else if line.hasPrefix("tug_storage_batches_total") {
                batches = Self.sample(line)?.1 ?? batches
            } else if line.hasPrefix("tug_storage_writes_total") {
                writes = Self.sample(line)?.1 ?? writes
            }
        }
        guard !steps.isEmpty else { return nil }
        for step in steps.keys { steps[step]?.sort { $0.0 < $1.0 } }
    }

    /// Labels and value of one exposition line (`name{a="b",…} value` or `name value`).
    static func sample(_ line: Substring) -> ([String: String], Double)? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        var labels: [String: String] = [:]
        if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                labels[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return (labels, value)
    }

    /// What happened since `earlier`.
    func since(_ earlier: StorageFigures?) -> StorageFigures {
        guard let earlier else { return self }
        var delta = self
        for (step, points) in steps {
            let before = Dictionary(earlier.steps[step] ?? [], uniquingKeysWith: { a, _ in a })
            delta.steps[step] = points.map { ($0.0, $0.1 - (before[$0.0] ?? 0)) }
        }
        delta.batches -= earlier.batches
        delta.writes -= earlier.writes
        return delta
    }

    /// `queue p99 12.0 ms, transaction p99 3.1 ms, …; 812 batches of 7.4 writes`.
    var description: String {
        let order = ["queue", "prepare", "transaction", "apply", "publish", "compact"]
        let parts = order.compactMap { step -> String? in
            guard let points = steps[step], let total = points.last?.1, total > 0 else { return nil }
            let p99 = APILatency.quantile(0.99, points) * 1000
            return step == "compact" ? String(format: "%@ ×%.0f p99 %.0f ms", step, total, p99) : String(format: "%@ p99 %.1f ms", step, p99)
        }
        let mean = batches > 0 ? writes / batches : 0
        return parts.joined(separator: ", ") + String(format: "; %.0f batches of %.1f writes", batches, mean)
    }
}
