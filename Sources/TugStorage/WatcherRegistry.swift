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

/// The open watchers of a `MemoryState`, in groups that a publish hands on whole: those that see every event under
/// a prefix, grouped by the prefix, and those with a trigger, grouped by prefix, field and value.
///
/// A group is an array, so a batch's delivery keeps a copy-on-write reference to each group an event concerns instead
/// of listing its watchers one by one: with 2,000 watchers of one namespace's pods, listing them (2,000 prefix checks
/// and retains per event) was the store's `apply` step, 30-40 ms per batch, under the state lock every read takes.
struct WatcherRegistry {
    typealias Group = [MemoryState.Watcher]

    private struct TriggerKey: Hashable {
        var prefix: String
        var field: String
    }

    private enum Place {
        case broadcast(String)
        case triggered(TriggerKey, String)
    }

    /// Broadcast watchers by their prefix. Prefixes end in "/" (`StorageKeys.prefix`), so an event's groups are
    /// found by its key's prefixes that end in "/"; a prefix that does not is kept in `irregular`.
    private var broadcast: [Substring: Group] = [:]
    private var irregular: [String: Group] = [:]
    private var triggered: [TriggerKey: [String: Group]] = [:]
    private var places: [Int: Place] = [:]

    var isEmpty: Bool { places.isEmpty }

    mutating func insert(_ watcher: MemoryState.Watcher) {
        if let trigger = watcher.trigger {
            let key = TriggerKey(prefix: watcher.prefix, field: trigger.field)
            triggered[key, default: [:]][trigger.value, default: []].append(watcher)
            places[watcher.id] = .triggered(key, trigger.value)
        } else if watcher.prefix.hasSuffix("/") {
            broadcast[Substring(watcher.prefix), default: []].append(watcher)
            places[watcher.id] = .broadcast(watcher.prefix)
        } else {
            irregular[watcher.prefix, default: []].append(watcher)
            places[watcher.id] = .broadcast(watcher.prefix)
        }
    }

    @discardableResult
    mutating func remove(_ id: Int) -> MemoryState.Watcher? {
        guard let place = places.removeValue(forKey: id) else { return nil }
        switch place {
        case .broadcast(let prefix) where prefix.hasSuffix("/"):
            return Self.take(id, from: &broadcast, Substring(prefix))
        case .broadcast(let prefix):
            return Self.take(id, from: &irregular, prefix)
        case .triggered(let key, let value):
            guard var byValue = triggered[key] else { return nil }
            let watcher = Self.take(id, from: &byValue, value)
            triggered[key] = byValue.isEmpty ? nil : byValue
            return watcher
        }
    }

    private static func take<Name: Hashable>(_ id: Int, from groups: inout [Name: Group], _ name: Name) -> MemoryState.Watcher? {
        guard var group = groups[name], let i = group.firstIndex(where: { $0.id == id }) else { return nil }
        let watcher = group.remove(at: i)
        groups[name] = group.isEmpty ? nil : group
        return watcher
    }

    /// Every group of watchers that may want `event`: by prefix, and for triggered ones by the event's value of their
    /// field now or before (an object leaving a node is a DELETED for that node's watcher).
    func interested(in event: StorageEvent, _ body: (Group) -> Void) {
        let key = event.object.key
        if !broadcast.isEmpty {
            var utf8 = key.utf8.startIndex
            let end = key.utf8.endIndex
            while utf8 < end {
                let next = key.utf8.index(after: utf8)
                // A Substring of the key up to and including this "/": looked up without making a String.
                if key.utf8[utf8] == UInt8(ascii: "/"), let group = broadcast[key[..<next]] { body(group) }
                utf8 = next
            }
        }
        for (prefix, group) in irregular where key.hasPrefix(prefix) { body(group) }
        for (trigger, byValue) in triggered where key.hasPrefix(trigger.prefix) {
            let now = event.object.attributes.fields[trigger.field] ?? ""
            if let group = byValue[now] { body(group) }
            if let previous = event.previous {
                let before = previous.attributes.fields[trigger.field] ?? ""
                if before != now, let group = byValue[before] { body(group) }
            }
        }
    }

    func forEach(_ body: (MemoryState.Watcher) -> Void) {
        for group in broadcast.values { group.forEach(body) }
        for group in irregular.values { group.forEach(body) }
        for byValue in triggered.values { for group in byValue.values { group.forEach(body) } }
    }

    mutating func removeAll() -> [MemoryState.Watcher] {
        var all: [MemoryState.Watcher] = []
        forEach { all.append($0) }
        self = WatcherRegistry()
        return all
    }
}
