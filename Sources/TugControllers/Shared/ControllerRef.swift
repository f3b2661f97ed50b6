public import TugAPIMachinery
public import TugClient
public import TugControllerRuntime

/// Owner references as controllers use them: the one `controller: true` reference says who manages an object.
public enum ControllerRef {
    /// The reference with `controller: true`, if any.
    public static func of(_ object: JSONValue) -> JSONValue? {
        object.ownerReferences.first { $0["controller"].boolValue == true }
    }

    /// Whether `object` is controlled by `owner` (same UID).
    public static func isControlled(_ object: JSONValue, by owner: JSONValue) -> Bool {
        of(object)?["uid"].stringValue == owner.uid
    }

    /// The reference a controller puts on what it creates.
    public static func reference(to owner: JSONValue, _ resource: APIResource) -> JSONValue {
        ["apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind), "name": .string(owner.name),
         "uid": .string(owner.uid), "controller": true, "blockOwnerDeletion": true]
    }

    /// The key of the object of `resource`'s kind controlling `object`, if that is what controls it.
    public static func ownerKey(of object: JSONValue, _ resource: APIResource) -> ObjectKey? {
        guard let ref = of(object), ref["kind"].stringValue == resource.kind,
              ref["apiVersion"].stringValue?.hasPrefix(resource.group.isEmpty ? resource.version : resource.group + "/") == true,
              let name = ref["name"].stringValue else { return nil }
        return ObjectKey(namespace: object.namespace, name: name)
    }
}

/// Adoption and release, as client-go's ControllerRefManager: an owner claims the orphans its selector matches and
/// lets go of what it controls but no longer matches. Writes are merge patches carrying the resourceVersion read, so
/// a concurrent change makes the patch fail (409) rather than be lost.
public struct ControllerClaims {
    public let owner: JSONValue
    public let resource: APIResource
    public let selector: LabelSelector

    public init(owner: JSONValue, resource: APIResource, selector: LabelSelector) {
        self.owner = owner
        self.resource = resource
        self.selector = selector
    }

    public enum Decision: Equatable {
        case keep, adopt, release, ignore
    }

    public func decide(_ object: JSONValue) -> Decision {
        let matches = !selector.isEmpty && selector.matches(object.labels)
        if let ref = ControllerRef.of(object) {
            guard ref["uid"].stringValue == owner.uid else { return .ignore }
            return matches || owner.deletionTimestamp != nil ? .keep : .release
        }
        // Orphans: adopt only live objects into a live owner.
        return matches && owner.deletionTimestamp == nil && object.deletionTimestamp == nil ? .adopt : .ignore
    }

    /// The patch that adds this owner as controller.
    public func adoptPatch(_ object: JSONValue) -> JSONValue {
        let refs = object.ownerReferences.filter { $0["uid"].stringValue != owner.uid } + [ControllerRef.reference(to: owner, resource)]
        return ["metadata": ["ownerReferences": .array(refs), "resourceVersion": .string(object.resourceVersion)]]
    }

    /// The patch that removes this owner's reference.
    public func releasePatch(_ object: JSONValue) -> JSONValue {
        let refs = object.ownerReferences.filter { $0["uid"].stringValue != owner.uid }
        return ["metadata": ["ownerReferences": refs.isEmpty ? .null : .array(refs), "resourceVersion": .string(object.resourceVersion)]]
    }
}

extension ControllerClaims {
    /// Indexes `candidates(in:)` reads; an owner's controller adds them to its dependents' store once.
    public static func addIndexes(to store: IndexedStore) {
        store.addIndex(Indexes.ownerUID, Indexes.byOwnerUID)
        store.addIndex(Indexes.orphans, Indexes.byOrphanNamespace)
    }

    /// What `claim` can change or keep in `store` (indexed by `addIndexes`): the objects in the owner's namespace
    /// it controls, and the orphans there. Everything else is controlled by another owner, which `decide` ignores,
    /// so a sync costs what the owner has rather than a pass over its whole namespace.
    public func candidates(in store: IndexedStore) -> [JSONValue] {
        let namespace = owner.namespace, uid = owner.uid
        let controlled = store.byIndex(Indexes.ownerUID, uid).filter { $0.namespace == namespace && ControllerRef.of($0)?["uid"].stringValue == uid }
        return controlled + store.byIndex(Indexes.orphans, namespace)
    }

    /// Claims among `candidates` (objects of `dependent`'s kind): keeps what this owner controls, adopts matching
    /// orphans that `adoptable` accepts, releases what no longer matches; returns what the owner controls now. An
    /// object that changed or went away meanwhile is skipped (its next event brings it back).
    public func claim(_ candidates: [JSONValue], _ dependent: APIResource, client: RESTClient,
                      adoptable: (JSONValue) -> Bool = { _ in true }) async throws -> [JSONValue] {
        var owned: [JSONValue] = []
        for (index, object) in candidates.enumerated() {
            // A pass over tens of thousands of pods must not outlast a shutdown.
            if index & 1023 == 1023 { try Task.checkCancellation() }
            do {
                switch decide(object) {
                case .keep: owned.append(object)
                case .ignore: continue
                case .adopt:
                    guard adoptable(object) else { continue }
                    owned.append(try await client.mergePatch(dependent.path(ObjectKey(object)), adoptPatch(object)))
                case .release: try await client.mergePatch(dependent.path(ObjectKey(object)), releasePatch(object))
                }
            } catch let error as StatusError where error.reason == .notFound || error.reason == .conflict {
                continue
            }
        }
        return owned
    }
}
