import Logging
public import ServiceLifecycle
import TugAPI
import TugAPIMachinery
public import TugRegistry
import TugStorage

/// The resource-quota controller's part that matters to users: every ResourceQuota's `status.hard` mirrors its
/// spec and `status.used` counts what its namespace holds (what `kubectl describe quota` shows). It wakes on
/// changes to quotas and to the kinds they count, at most twice a second.
public struct ResourceQuotaStatusService: Service {
    let store: ObjectStore
    let logger: Logger

    public init(store: ObjectStore, logger: Logger = Logger(label: "tug.controller.resourcequota")) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        guard let quotas = store.definition(group: "", resource: "resourcequotas") else { return }
        let watched = [quotas] + ["pods", "services", "persistentvolumeclaims", "configmaps", "secrets"].compactMap { store.definition(group: "", resource: $0) }
        let prefixes = watched.map { StorageKeys.prefix($0, namespace: nil) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let revision = store.backend.currentRevision
            let streams = prefixes.compactMap { try? store.backend.watch(prefix: $0, after: revision, bufferLimit: 16) }
            do {
                try await pass(quotas)
            } catch {
                logger.warning("resource quota status: \(error)")
            }
            await WatchStreams.firstChange(streams)
            streams.forEach { $0.cancel() }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    func pass(_ definition: ResourceDefinition) async throws {
        let items = try store.backend.list(prefix: StorageKeys.prefix(definition, namespace: nil)).items
        for item in items {
            let quota = try store.decode(item)
            let hard = quota["spec"]["hard"].stringMap
            var used: JSONObject = [:]
            for name in hard.keys.sorted() {
                used[name] = .string(Quantity(milli: usage(name, quota: quota)).formatted(binary: QuotaUsage.binary(name)))
            }
            let wanted: JSONValue = ["hard": quota["spec"]["hard"], "used": .object(used)]
            guard quota["status"] != wanted else { continue }
            var updated = quota
            updated["status"] = wanted
            do {
                _ = try await store.update(definition, namespace: quota.namespace, name: quota.name, object: updated, target: .status)
            } catch {
                guard error.code == 409 || error.code == 404 else { throw error }
            }
        }
    }

    func usage(_ name: String, quota: JSONValue) -> Double {
        guard let resource = QuotaUsage.resource(forKey: name), let definition = store.definition(group: resource.group, resource: resource.resource),
              let listed = try? store.backend.list(prefix: StorageKeys.prefix(definition, namespace: quota.namespace)) else { return 0 }
        return listed.items.reduce(0) { total, item in
            guard let object = try? store.decode(item), QuotaUsage.selects(quota, object, resource: resource) else { return total }
            return total + (QuotaUsage.usage(of: object, resource: resource)[name] ?? 0)
        }
    }
}
