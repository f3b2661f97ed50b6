import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// The garbage collector (kube-controller-manager's): objects whose owners are all gone are deleted; an owner
/// deleted with `propagationPolicy: Foreground` (finalizer `foregroundDeletion`) goes only after its dependents;
/// one deleted with `Orphan` (finalizer `orphan`) first has its dependents' references to it removed. It learns the
/// resources from discovery and watches every one that can be listed, watched and deleted.
public final class GarbageCollector: Controller, Service {
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var resource: APIResource
        public var object: ObjectKey
        public var description: String { "\(resource) \(object)" }
    }

    public let name = "garbagecollector"
    public let queue: WorkQueue<Key>
    let client: RESTClient
    let factory: InformerFactory
    let logger: Logger
    let workers: Int
    private let watched = Mutex<(informers: [APIResource: Informer], byKind: [String: APIResource])>(([:], [:]))
    /// Resources not worth a watch: nothing owns events.
    static let ignored: Set<String> = ["events", "events.events.k8s.io"]

    public var informers: [Informer] { watched.withLock { Array($0.informers.values) } }

    public init(client: RESTClient, informers: InformerFactory, workers: Int = 4, logger: Logger) {
        self.client = client
        self.factory = informers
        self.logger = logger
        self.workers = workers
        queue = WorkQueue(name: "garbagecollector")
    }

    public func run() async throws {
        let resources: [APIResource]
        do {
            await factory.waitUntilStartable()
            resources = try await Discovery.deletableResources(client, logger: logger)
        } catch {
            return  // cancelled or shut down before the API answered
        }
        watch(resources.filter { !Self.ignored.contains($0.description) })
        try await ControllerRunner(self, workers: workers, logger: logger).run()
    }

    /// Knows every resource before any handler runs: a dependent is only judged once its owner's kind is known.
    func watch(_ resources: [APIResource]) {
        let informers = resources.map { resource in
            let informer = factory.informer(resource)
            informer.store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
            return (resource, informer)
        }
        watched.withLock { watched in
            for (resource, informer) in informers {
                watched.informers[resource] = informer
                watched.byKind["\(resource.apiVersion)/\(resource.kind)"] = resource
            }
        }
        for (resource, informer) in informers {
            informer.addHandler { [weak self] event in self?.changed(event, resource) }
        }
    }

    // MARK: Handlers

    func changed(_ event: InformerEvent, _ resource: APIResource) {
        let object = event.object
        switch event {
        case .added, .updated:
            if !object.ownerReferences.isEmpty || Self.waitsForCollector(object) {
                queue.add(Key(resource: resource, object: ObjectKey(object)))
            }
        case .deleted:
            // Its dependents may now be orphans; owners deleting in the foreground may now be free to go.
            for dependent in dependents(of: object) { queue.add(dependent) }
            for ref in object.ownerReferences {
                if let owner = ownerKey(ref, of: object) { queue.add(owner) }
            }
        }
    }

    static func waitsForCollector(_ object: JSONValue) -> Bool {
        object.deletionTimestamp != nil && (object.finalizers.contains("foregroundDeletion") || object.finalizers.contains("orphan"))
    }

    func dependents(of owner: JSONValue) -> [Key] {
        let informers = watched.withLock { $0.informers }
        return informers.flatMap { resource, informer in
            informer.store.byIndex(Indexes.ownerUID, owner.uid).map { Key(resource: resource, object: ObjectKey($0)) }
        }
    }

    func ownerKey(_ ref: JSONValue, of dependent: JSONValue) -> Key? {
        guard let resource = resource(ref), let name = ref["name"].stringValue else { return nil }
        return Key(resource: resource, object: ObjectKey(namespace: resource.namespaced ? dependent.namespace : "", name: name))
    }

    func resource(_ ref: JSONValue) -> APIResource? {
        let kind = "\(ref["apiVersion"].stringValue ?? "")/\(ref["kind"].stringValue ?? "")"
        return watched.withLock { $0.byKind[kind] }
    }

    // MARK: Reconcile

    public func reconcile(_ key: Key) async throws -> ReconcileResult {
        guard let informer = watched.withLock({ $0.informers[key.resource] }), let object = informer.store.get(key.object) else { return .done }
        if object.deletionTimestamp != nil {
            if object.finalizers.contains("orphan") {
                try await orphanDependents(of: object)
                try await removeFinalizer("orphan", from: object, key.resource)
                return .done
            }
            if object.finalizers.contains("foregroundDeletion") {
                try await deleteDependentsFirst(object, key.resource)
                return .done
            }
        }
        try await collectIfOrphaned(object, key.resource)
        return .done
    }

    enum OwnerState { case solid, dangling, waitingForDependents }

    /// Deletes `object` when none of its owners is alive; drops references to dead owners when some are.
    func collectIfOrphaned(_ object: JSONValue, _ resource: APIResource) async throws {
        let refs = object.ownerReferences
        guard !refs.isEmpty, object.deletionTimestamp == nil else { return }
        var states: [(JSONValue, OwnerState)] = []
        for ref in refs { states.append((ref, try await ownerState(ref, of: object))) }
        let solid = states.filter { $0.1 == .solid }
        if !solid.isEmpty {
            if solid.count < states.count {
                let keep = solid.map(\.0)
                try await client.mergePatch(resource.path(ObjectKey(object)),
                                            ["metadata": ["ownerReferences": .array(keep), "resourceVersion": .string(object.resourceVersion)]])
            }
            return
        }
        let waiting = states.contains { $0.1 == .waitingForDependents }
        let policy = waiting && !dependents(of: object).isEmpty ? "Foreground" : "Background"
        logger.debug("deleting object whose owners are gone", metadata: ["object": "\(ObjectKey(object))", "kind": "\(resource.kind)"])
        try await client.delete(resource.path(ObjectKey(object)), propagationPolicy: policy, uid: object.uid)
    }

    /// An owner is solid when it exists with the referenced UID and is not deleting in the foreground. The cache is
    /// confirmed by a live read before an owner is declared gone.
    func ownerState(_ ref: JSONValue, of dependent: JSONValue) async throws -> OwnerState {
        guard let key = ownerKey(ref, of: dependent), let informer = watched.withLock({ $0.informers[key.resource] }) else { return .solid }
        var owner = informer.store.get(key.object)
        if owner?.uid != ref["uid"].stringValue {
            do {
                owner = try await client.send(.GET, key.resource.path(key.object))
            } catch let error as StatusError where error.reason == .notFound {
                return .dangling
            }
            if owner?.uid != ref["uid"].stringValue { return .dangling }
        }
        if let owner, owner.deletionTimestamp != nil, owner.finalizers.contains("foregroundDeletion") { return .waitingForDependents }
        return .solid
    }

    func orphanDependents(of owner: JSONValue) async throws {
        for dependent in dependents(of: owner) {
            guard let object = watched.withLock({ $0.informers[dependent.resource] })?.store.get(dependent.object) else { continue }
            let refs = object.ownerReferences.filter { $0["uid"].stringValue != owner.uid }
            do {
                try await client.mergePatch(dependent.resource.path(dependent.object),
                                            ["metadata": ["ownerReferences": refs.isEmpty ? .null : .array(refs), "resourceVersion": .string(object.resourceVersion)]])
            } catch let error as StatusError where error.reason == .notFound {
                continue
            }
        }
    }

    /// Foreground deletion: delete every dependent (in the foreground too), and let the owner go once none is left.
    func deleteDependentsFirst(_ owner: JSONValue, _ resource: APIResource) async throws {
        let dependents = self.dependents(of: owner)
        if dependents.isEmpty {
            try await removeFinalizer("foregroundDeletion", from: owner, resource)
            return
        }
        for dependent in dependents {
            guard let object = watched.withLock({ $0.informers[dependent.resource] })?.store.get(dependent.object), object.deletionTimestamp == nil else { continue }
            try await client.delete(dependent.resource.path(dependent.object), propagationPolicy: "Foreground", uid: object.uid)
        }
    }

    func removeFinalizer(_ finalizer: String, from object: JSONValue, _ resource: APIResource) async throws {
        let remaining = object.finalizers.filter { $0 != finalizer }
        do {
            try await client.mergePatch(resource.path(ObjectKey(object)),
                                        ["metadata": ["finalizers": remaining.isEmpty ? .null : .array(remaining.map(JSONValue.string)),
                                                      "resourceVersion": .string(object.resourceVersion)]])
        } catch let error as StatusError where error.reason == .notFound {
            return
        }
    }
}
