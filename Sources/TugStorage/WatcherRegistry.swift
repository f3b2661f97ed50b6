/// An equality on one selectable field that a watcher's events must have (before or after the change): the store
/// hands a triggered watcher only those events, as kube's watch cache does with its index triggers, so thousands of
/// agents each watching the pods of their own node cost nothing per event that is not theirs.
public struct WatchTrigger: Sendable, Hashable {
    public var field: String
    public var value: String

    public init(field: String, value: String) {
        self.field = field
        self.value = value
    }
}

/// The open watchers of a `MemoryState`: those that see every event under their prefix, and those with a trigger,
/// found by the value of their field.
struct WatcherRegistry {
    private var broadcast: [Int: MemoryState.Watcher] = [:]
    private var triggered: [String: [String: [Int: MemoryState.Watcher]]] = [:]
    private var triggerOf: [Int: WatchTrigger] = [:]

    var isEmpty: Bool { broadcast.isEmpty && triggerOf.isEmpty }

    mutating func insert(_ id: Int, _ watcher: MemoryState.Watcher) {
        if let trigger = watcher.trigger {
            triggered[trigger.field, default: [:]][trigger.value, default: [:]][id] = watcher
            triggerOf[id] = trigger
        } else {
            broadcast[id] = watcher
        }
    }

    @discardableResult
    mutating func remove(_ id: Int) -> MemoryState.Watcher? {
        if let watcher = broadcast.removeValue(forKey: id) { return watcher }
        guard let trigger = triggerOf.removeValue(forKey: id) else { return nil }
        let watcher = triggered[trigger.field]?[trigger.value]?.removeValue(forKey: id)
        if triggered[trigger.field]?[trigger.value]?.isEmpty == true { triggered[trigger.field]?[trigger.value] = nil }
        if triggered[trigger.field]?.isEmpty == true { triggered[trigger.field] = nil }
        return watcher
    }

    /// Every watcher that may want `event`: by prefix, and for triggered ones by the event's value of their field
    /// now or before (an object leaving a node is a DELETED for that node's watcher).
    func interested(in event: StorageEvent, _ body: (Int, MemoryState.Watcher) -> Void) {
        let key = event.object.key
        for (id, watcher) in broadcast where key.hasPrefix(watcher.prefix) { body(id, watcher) }
        for (field, byValue) in triggered {
            let now = event.object.attributes.fields[field] ?? ""
            for (id, watcher) in byValue[now] ?? [:] where key.hasPrefix(watcher.prefix) { body(id, watcher) }
            if let previous = event.previous {
                let before = previous.attributes.fields[field] ?? ""
                if before != now {
                    for (id, watcher) in byValue[before] ?? [:] where key.hasPrefix(watcher.prefix) { body(id, watcher) }
                }
            }
        }
    }

    func forEach(_ body: (MemoryState.Watcher) -> Void) {
        for watcher in broadcast.values { body(watcher) }
        for byValue in triggered.values { for watchers in byValue.values { for watcher in watchers.values { body(watcher) } } }
    }

    mutating func removeAll() -> [MemoryState.Watcher] {
        var all: [MemoryState.Watcher] = []
        forEach { all.append($0) }
        self = WatcherRegistry()
        return all
    }
}
