public import TugAPIMachinery
import Synchronization

/// An informer's cache: objects by key plus named secondary indexes (namespace, owner UID, node name…). Objects are
/// values, so what a reader gets can never change the cache underneath it.
public final class IndexedStore: Sendable {
    public typealias IndexFunction = @Sendable (JSONValue) -> [String]

    struct State {
        var objects: [ObjectKey: JSONValue] = [:]
        var indexers: [String: IndexFunction] = [:]
        var indexes: [String: [String: Set<ObjectKey>]] = [:]

        mutating func index(_ key: ObjectKey, _ object: JSONValue) {
            for (name, function) in indexers {
                for value in function(object) { indexes[name, default: [:]][value, default: []].insert(key) }
            }
        }

        mutating func unindex(_ key: ObjectKey, _ object: JSONValue) {
            for (name, function) in indexers {
                for value in function(object) {
                    indexes[name]?[value]?.remove(key)
                    if indexes[name]?[value]?.isEmpty == true { indexes[name]?[value] = nil }
                }
            }
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// Adds an index (existing objects are indexed at once); adding a name twice keeps the first function.
    public func addIndex(_ name: String, _ function: @escaping IndexFunction) {
        state.withLock { state in
            guard state.indexers[name] == nil else { return }
            state.indexers[name] = function
            for (key, object) in state.objects {
                for value in function(object) { state.indexes[name, default: [:]][value, default: []].insert(key) }
            }
        }
    }

    public func get(_ key: ObjectKey) -> JSONValue? { state.withLock { $0.objects[key] } }

    public func list() -> [JSONValue] { state.withLock { Array($0.objects.values) } }

    public var count: Int { state.withLock { $0.objects.count } }

    public func list(namespace: String) -> [JSONValue] { byIndex(Indexes.namespace, namespace) }

    /// Objects whose index `name` contains `value`.
    public func byIndex(_ name: String, _ value: String) -> [JSONValue] {
        state.withLock { state in (state.indexes[name]?[value] ?? []).compactMap { state.objects[$0] } }
    }

    /// Stores `object`; returns what it replaced.
    @discardableResult
    func upsert(_ object: JSONValue) -> JSONValue? {
        let key = ObjectKey(object)
        return state.withLock { state in
            let old = state.objects.updateValue(object, forKey: key)
            if let old { state.unindex(key, old) }
            state.index(key, object)
            return old
        }
    }

    @discardableResult
    func remove(_ key: ObjectKey) -> JSONValue? {
        state.withLock { state in
            guard let old = state.objects.removeValue(forKey: key) else { return nil }
            state.unindex(key, old)
            return old
        }
    }

    /// Replaces the whole content (after a list); returns the events that turn the old content into the new.
    func replace(_ objects: [JSONValue]) -> [InformerEvent] {
        state.withLock { state in
            var events: [InformerEvent] = []
            var fresh: [ObjectKey: JSONValue] = [:]
            for object in objects { fresh[ObjectKey(object)] = object }
            for (key, old) in state.objects where fresh[key] == nil { events.append(.deleted(old)) }
            for (key, object) in fresh {
                if let old = state.objects[key] {
                    if old.resourceVersion != object.resourceVersion { events.append(.updated(old: old, new: object)) }
                } else {
                    events.append(.added(object))
                }
            }
            state.objects = fresh
            state.indexes = [:]
            for (key, object) in fresh { state.index(key, object) }
            return events
        }
    }
}

/// The standard index names.
public enum Indexes {
    public static let namespace = "namespace"
    /// UIDs in `metadata.ownerReferences`.
    public static let ownerUID = "ownerUID"
    /// A pod's `spec.nodeName`.
    public static let nodeName = "nodeName"
    /// The namespace of an object no controller owns (no owner reference with `controller: true`).
    public static let orphans = "orphans"

    public static let byNamespace: IndexedStore.IndexFunction = { [$0.namespace] }
    public static let byOwnerUID: IndexedStore.IndexFunction = { $0.ownerReferences.compactMap { $0["uid"].stringValue } }
    public static let byOrphanNamespace: IndexedStore.IndexFunction = { object in
        object.ownerReferences.contains { $0["controller"].boolValue == true } ? [] : [object.namespace]
    }
    public static let byNodeName: IndexedStore.IndexFunction = { object in
        object["spec"]["nodeName"].stringValue.map { [$0] } ?? []
    }
}
