import Logging
public import TugAPIMachinery
import TugClient
import Synchronization

/// What changed in an informer's cache.
public enum InformerEvent: Sendable {
    case added(JSONValue)
    case updated(old: JSONValue, new: JSONValue)
    case deleted(JSONValue)

    /// The object as it is now (or was, for a deletion).
    public var object: JSONValue {
        switch self {
        case .added(let o), .deleted(let o), .updated(_, let o): o
        }
    }
}

/// One resource's list-and-watch, kept in an indexed cache (`store`) that handlers hear about. Handlers are
/// synchronous and only enqueue keys; controllers then read the cache, never the event payloads.
public final class Informer: Sendable {
    public typealias Handler = @Sendable (InformerEvent) -> Void

    public let resource: APIResource
    public let store = IndexedStore()
    private let handlers = Mutex<[Handler]>([])
    private let synced = Gate()

    init(resource: APIResource) {
        self.resource = resource
        store.addIndex(Indexes.namespace, Indexes.byNamespace)
    }

    /// Adds a handler. One added to an informer that already has objects hears of each as `.added` first, as
    /// client-go replays the cache to a late handler (a controller started after others shares their informers).
    public func addHandler(_ handler: @escaping Handler) {
        handlers.withLock { $0.append(handler) }
        for object in store.list() { handler(.added(object)) }
    }

    /// Whether the first list has been applied.
    public var hasSynced: Bool { synced.isOpen }

    /// Returns once the first list has been applied, or at once when the task is cancelled (a server whose API never
    /// came up still shuts down: nothing waits for a sync that cannot happen).
    public func waitForSync() async { await synced.wait() }

    func run(client: RESTClient, logger: Logger) async {
        await Reflector(client: client, path: resource.collectionPath, logger: logger).run { event in
            self.apply(event)
        }
    }

    /// Applies one reflector event to the cache and tells the handlers.
    func apply(_ event: Reflector.Event) {
        let events: [InformerEvent]
        switch event {
        case .replace(let objects):
            events = store.replace(objects)
        case .added(let object), .modified(let object):
            if let old = store.upsert(object) {
                events = old.resourceVersion == object.resourceVersion ? [] : [.updated(old: old, new: object)]
            } else {
                events = [.added(object)]
            }
        case .deleted(let object):
            events = [.deleted(store.remove(ObjectKey(object)) ?? object)]
        }
        let handlers = self.handlers.withLock { $0 }
        for event in events { for handler in handlers { handler(event) } }
        if case .replace = event { synced.open() }
    }
}
