import Logging
public import ServiceLifecycle
import TugAPI
import TugAPIMachinery

/// Keeps one object in every active namespace, re-creating it when deleted and rewriting it when its content drifts:
/// the service-account controller's `default` ServiceAccount and the root-CA publisher's `kube-root-ca.crt` ConfigMap.
public struct NamespaceDefaults: Service {
    let store: ObjectStore
    let group: String
    let resource: String
    let name: String
    /// The fields that must hold (merged over what is stored; `metadata.name` is added).
    let content: JSONValue
    let logger: Logger

    public init(store: ObjectStore, group: String = "", resource: String, name: String, content: JSONValue = [:], logger: Logger) {
        self.store = store
        self.group = group
        self.resource = resource
        self.name = name
        self.content = content
        self.logger = logger
    }

    /// Every namespace's `default` ServiceAccount: pods name it by default and `kubectl create token default` expects it.
    public static func serviceAccounts(store: ObjectStore) -> NamespaceDefaults {
        NamespaceDefaults(store: store, resource: "serviceaccounts", name: "default", logger: Logger(label: "tug.controller.serviceaccount"))
    }

    /// Every namespace's `kube-root-ca.crt`, which pods' service-account volumes mount as `ca.crt`.
    public static func rootCA(store: ObjectStore, caPEM: String) -> NamespaceDefaults {
        NamespaceDefaults(store: store, resource: "configmaps", name: "kube-root-ca.crt", content: ["data": ["ca.crt": .string(caPEM)]],
                          logger: Logger(label: "tug.controller.root-ca-publisher"))
    }

    public func run() async throws {
        guard let definition = store.definition(group: group, resource: resource) else { return }
        // Also wake on changes to the objects themselves, so a deleted or edited one is put back.
        await NamespaceLoop.run(store, alsoWatching: [StorageKeys.prefix(definition, namespace: nil)]) { namespaces in
            var pending = false
            for ns in namespaces where ns.deletionTimestamp == nil {
                if await !ensure(definition, in: ns.name) { pending = true }
            }
            return pending
        }
    }

    /// True when the object is as it should be now (or the namespace is going away); false to retry.
    func ensure(_ definition: ResourceDefinition, in namespace: String) async -> Bool {
        do {
            if let stored = store.backend.get(key: StorageKeys.key(definition, namespace: namespace, name: name)) {
                let current = try store.decode(stored)
                guard !Self.holds(content, in: current) else { return true }
                var updated = current
                Self.merge(content, into: &updated)
                _ = try await store.update(definition, namespace: namespace, name: name, object: updated)
                return true
            }
            var object = content
            object["metadata"] = ["name": .string(name)]
            _ = try await store.create(definition, namespace: namespace, object: object)
            return true
        } catch {
            if error.reason == .alreadyExists || error.code == 403 || error.reason == .notFound || error.code == 409 { return true }
            logger.warning("\(resource)/\(name) not written", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
            return false
        }
    }

    static func holds(_ wanted: JSONValue, in object: JSONValue) -> Bool {
        guard case .object(let fields) = wanted else { return wanted == object }
        return fields.allSatisfy { key, value in holds(value, in: object[key]) }
    }

    static func merge(_ wanted: JSONValue, into object: inout JSONValue) {
        guard case .object(let fields) = wanted else {
            object = wanted
            return
        }
        for (key, value) in fields { merge(value, into: &object[key]) }
    }
}
