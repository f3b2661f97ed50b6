import Logging
public import ServiceLifecycle
import TugAPI
import TugAPIMachinery

/// Gives every active namespace a `default` ServiceAccount, as the service-account controller does: pods name it
/// by default and `kubectl create token default` expects it.
public struct DefaultServiceAccounts: Service {
    let store: ObjectStore
    let logger: Logger

    public init(store: ObjectStore, logger: Logger = Logger(label: "tug.controller.serviceaccount")) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        guard let sa = store.definition(group: "", resource: "serviceaccounts") else { return }
        // Also wake on ServiceAccount changes, so a deleted `default` account comes back.
        await NamespaceLoop.run(store, alsoWatching: [StorageKeys.prefix(sa, namespace: nil)]) { namespaces in
            var pending = false
            for ns in namespaces where ns.deletionTimestamp == nil {
                guard store.backend.get(key: StorageKeys.key(sa, namespace: ns.name, name: "default")) == nil else { continue }
                if await !ensure(sa, in: ns.name) { pending = true }
            }
            return pending
        }
    }

    /// True when the account exists now (or the namespace is going away); false to retry.
    func ensure(_ sa: ResourceDefinition, in namespace: String) async -> Bool {
        do {
            _ = try await store.create(sa, namespace: namespace, object: ["metadata": ["name": "default"]])
            return true
        } catch {
            if error.reason == .alreadyExists || error.code == 403 || error.reason == .notFound { return true }
            logger.warning("default service account not created", metadata: ["object": "\(namespace)", "error": "\(error)"])
            return false
        }
    }
}
