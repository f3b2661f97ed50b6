import CJemalloc

/// The allocator's own figures (jemalloc's `stats.*`): what the heap holds live against what it keeps resident,
/// the split RSS alone cannot show (fragmentation, pages kept for reuse, the allocator's metadata).
struct HeapFigures: Sendable, Equatable {
    /// Bytes in live allocations.
    var allocated: Int
    /// Bytes in pages holding live allocations (allocated plus fragmentation within them).
    var active: Int
    /// Bytes of physical memory the allocator holds mapped: active pages, dirty pages kept for reuse, metadata.
    var resident: Int
    /// Bytes of the allocator's own bookkeeping.
    var metadata: Int

    /// The current figures, or nil when the allocator does not answer (not linked, or built without statistics).
    static func read() -> HeapFigures? {
        // The statistics are a snapshot refreshed by writing to "epoch".
        var epoch: UInt64 = 1
        guard mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size) == 0 else { return nil }
        func figure(_ name: String) -> Int? {
            var value = 0
            var length = MemoryLayout<Int>.size
            return mallctl(name, &value, &length, nil, 0) == 0 ? value : nil
        }
        guard let allocated = figure("stats.allocated"), let active = figure("stats.active"),
              let resident = figure("stats.resident"), let metadata = figure("stats.metadata") else { return nil }
        return HeapFigures(allocated: allocated, active: active, resident: resident, metadata: metadata)
    }

    /// Prometheus gauges for `/metrics`; empty when there are no figures.
    static func metricsText() -> String {
        guard let heap = read() else { return "" }
        return [("allocated", heap.allocated, "Bytes in live heap allocations."),
                ("active", heap.active, "Bytes in heap pages holding live allocations."),
                ("resident", heap.resident, "Bytes of physical memory the allocator holds."),
                ("metadata", heap.metadata, "Bytes of the allocator's own bookkeeping.")].map { name, value, help in
            "# HELP tug_heap_\(name)_bytes \(help)\n# TYPE tug_heap_\(name)_bytes gauge\ntug_heap_\(name)_bytes \(value)\n"
        }.joined()
    }
}

extension HeapFigures {
    /// The figures a server's `/metrics` reported, or nil without them.
    init?(metrics: String) {
        var values: [String: Int] = [:]
        for line in metrics.split(separator: "\n") where line.hasPrefix("tug_heap_") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        guard let allocated = values["tug_heap_allocated_bytes"], let active = values["tug_heap_active_bytes"],
              let resident = values["tug_heap_resident_bytes"], let metadata = values["tug_heap_metadata_bytes"] else { return nil }
        self.init(allocated: allocated, active: active, resident: resident, metadata: metadata)
    }

    var description: String {
        let mib = { (bytes: Int) in String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
        return "\(mib(allocated)) allocated, \(mib(active)) in active pages, \(mib(resident)) resident, \(mib(metadata)) metadata"
    }
}
