import Logging
public import ServiceLifecycle
import TugAPI
import TugAPIMachinery
import TugStorage

/// Empties namespaces that are being deleted, then removes them (the namespace controller's job).
///
/// It watches namespaces; while any is Terminating it deletes the namespaced objects in it every pass and, once none
/// remain, drops the `kubernetes` finalizer and the namespace itself.
public struct NamespaceLifecycle: Service {
    let store: ObjectStore
    let logger: Logger

    public init(store: ObjectStore, logger: Logger = Logger(label: "tug.controller.namespace")) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        guard let nsDef = store.definition(group: "", resource: "namespaces") else { return }
        await NamespaceLoop.run(store) { namespaces in
            let terminating = namespaces.filter { $0.deletionTimestamp != nil }
            for ns in terminating {
                do { try await finalize(ns, nsDef) } catch {
                    logger.warning("namespace cleanup failed", metadata: ["object": "\(ns.name)", "error": "\(error)"])
                }
            }
            return !terminating.isEmpty
        }
    }

    func finalize(_ ns: JSONValue, _ nsDef: ResourceDefinition) async throws {
        var remaining = 0
        for d in store.scheme.definitions where d.namespaced && d.storageResource == nil {
            for stored in store.backend.list(prefix: StorageKeys.prefix(d, namespace: ns.name)).items {
                remaining += 1
                let object = try store.decode(stored)
                if object.deletionTimestamp != nil { continue }
                _ = try? await store.delete(d, namespace: ns.name, name: object.name, options: .init())
            }
        }
        guard remaining == 0 else { return }
        var object = ns
        object["spec"]["finalizers"] = .null
        object.finalizers = object.finalizers.filter { $0 != "kubernetes" }
        let key = StorageKeys.key(nsDef, namespace: "", name: ns.name)
        guard let stored = store.backend.get(key: key) else { return }
        if object.finalizers.isEmpty {
            _ = try await store.backend.delete(key: key, expectedRevision: stored.revision, encode: store.encoder(object))
            logger.info("namespace deleted", metadata: ["object": "\(ns.name)"])
        } else {
            _ = try await store.backend.update(key: key, expectedRevision: stored.revision,
                                               attributes: StorageKeys.attributes(object, definition: nsDef), encode: store.encoder(object))
        }
    }
}
