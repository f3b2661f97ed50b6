import Foundation

/// The apiserver_flowcontrol_* series, kept with the flow controller's state (counted under its lock, rendered at
/// scrape time) with upstream's names, labels and wait-duration buckets.
struct FlowMetrics {
    struct Pair: Hashable, Comparable {
        var schema: String
        var level: String
        static func < (a: Pair, b: Pair) -> Bool { (a.level, a.schema) < (b.level, b.schema) }
    }

    struct Histogram {
        static let bounds: [Double] = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30]
        var buckets = [UInt64](repeating: 0, count: bounds.count)
        var count: UInt64 = 0
        var sum = 0.0

        mutating func observe(_ value: Double) {
            for (i, bound) in Self.bounds.enumerated() where value <= bound { buckets[i] += 1 }
            count += 1
            sum += value
        }
    }

    var dispatchedTotal: [Pair: UInt64] = [:]
    var rejectedTotal: [Pair: [String: UInt64]] = [:]
    var waitDuration: [Pair: [Bool: Histogram]] = [:]

    mutating func dispatched(schema: String, level: String) {
        dispatchedTotal[Pair(schema: schema, level: level), default: 0] += 1
    }

    mutating func rejected(schema: String, level: String, reason: String) {
        rejectedTotal[Pair(schema: schema, level: level), default: [:]][reason, default: 0] += 1
    }

    mutating func waited(schema: String, level: String, seconds: Double, executed: Bool) {
        waitDuration[Pair(schema: schema, level: level), default: [:]][executed, default: Histogram()].observe(seconds)
    }

    func render(levels: [String: PriorityLevel]) -> String {
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func labels(_ pairs: [(String, String)]) -> String {
            "{" + pairs.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        header("apiserver_flowcontrol_dispatched_requests_total", "counter", "Number of requests executed by API Priority and Fairness subsystem")
        for (pair, n) in dispatchedTotal.sorted(by: { $0.key < $1.key }) {
            out += "apiserver_flowcontrol_dispatched_requests_total\(labels([("flow_schema", pair.schema), ("priority_level", pair.level)])) \(n)\n"
        }
        header("apiserver_flowcontrol_rejected_requests_total", "counter", "Number of requests rejected by API Priority and Fairness subsystem")
        for (pair, reasons) in rejectedTotal.sorted(by: { $0.key < $1.key }) {
            for (reason, n) in reasons.sorted(by: { $0.key < $1.key }) {
                out += "apiserver_flowcontrol_rejected_requests_total\(labels([("flow_schema", pair.schema), ("priority_level", pair.level), ("reason", reason)])) \(n)\n"
            }
        }
        let sortedLevels = levels.values.sorted { $0.settings.name < $1.settings.name }
        /// A gauge per flow schema and priority level.
        func perSchema(_ name: String, _ help: String, _ values: (PriorityLevel) -> [String: Int]) {
            header(name, "gauge", help)
            for level in sortedLevels {
                for (schema, n) in values(level).sorted(by: { $0.key < $1.key }) {
                    out += "\(name)\(labels([("flow_schema", schema), ("priority_level", level.settings.name)])) \(n)\n"
                }
            }
        }
        /// A gauge per priority level.
        func perLevel(_ name: String, _ help: String, _ value: (PriorityLevel) -> Int) {
            header(name, "gauge", help)
            for level in sortedLevels { out += "\(name)\(labels([("priority_level", level.settings.name)])) \(value(level))\n" }
        }
        perSchema("apiserver_flowcontrol_current_inqueue_requests",
                  "Number of requests currently pending in queues of the API Priority and Fairness subsystem") { $0.waitingBySchema }
        perSchema("apiserver_flowcontrol_current_executing_requests",
                  "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem") {
            $0.executingBySchema.mapValues(\.requests)
        }
        perSchema("apiserver_flowcontrol_current_executing_seats",
                  "Concurrency (number of seats) occupied by the currently executing (initial stage for a WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem") {
            $0.executingBySchema.mapValues(\.seats)
        }
        perLevel("apiserver_flowcontrol_nominal_limit_seats", "Nominal number of execution seats configured for each priority level") { $0.nominal }
        perLevel("apiserver_flowcontrol_request_concurrency_limit", "Nominal number of execution seats configured for each priority level") { $0.nominal }
        header("apiserver_flowcontrol_request_wait_duration_seconds", "histogram", "Length of time a request spent waiting in its queue")
        for (pair, byOutcome) in waitDuration.sorted(by: { $0.key < $1.key }) {
            for (executed, histogram) in byOutcome.sorted(by: { !$0.key && $1.key }) {
                let base = [("execute", String(executed)), ("flow_schema", pair.schema), ("priority_level", pair.level)]
                for (i, bound) in Histogram.bounds.enumerated() {
                    out += "apiserver_flowcontrol_request_wait_duration_seconds_bucket\(labels(base + [("le", Self.format(bound))])) \(histogram.buckets[i])\n"
                }
                out += "apiserver_flowcontrol_request_wait_duration_seconds_bucket\(labels(base + [("le", "+Inf")])) \(histogram.count)\n"
                out += "apiserver_flowcontrol_request_wait_duration_seconds_sum\(labels(base)) \(histogram.sum)\n"
                out += "apiserver_flowcontrol_request_wait_duration_seconds_count\(labels(base)) \(histogram.count)\n"
            }
        }
        return out
    }

    static func format(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
