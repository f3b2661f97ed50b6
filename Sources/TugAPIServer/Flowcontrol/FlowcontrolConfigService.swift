import Foundation
import Logging
public import ServiceLifecycle
import TugAPI
import TugAPIMachinery
import TugRegistry
import TugStorage

/// Keeps API Priority and Fairness configured from the store, as kube-apiserver's APF configuration controller:
/// puts the bootstrap objects in place (re-creating deleted ones and restoring the spec of those whose
/// `apf.kubernetes.io/autoupdate-spec` is "true", or absent on a mandatory one), keeps each FlowSchema's `Dangling`
/// condition current, and hands every change to the flow controller.
public struct FlowcontrolConfigService: Service {
    let store: ObjectStore
    let controller: FlowController
    let logger: Logger

    init(store: ObjectStore, controller: FlowController, logger: Logger) {
        self.store = store
        self.controller = controller
        self.logger = logger
    }

    public func run() async throws {
        guard let schemas = store.scheme.resource(group: "flowcontrol.apiserver.k8s.io", version: "v1", resource: "flowschemas"),
              let levels = store.scheme.resource(group: "flowcontrol.apiserver.k8s.io", version: "v1", resource: "prioritylevelconfigurations") else { return }
        let prefixes = [StorageKeys.prefix(schemas, namespace: nil), StorageKeys.prefix(levels, namespace: nil)]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Subscribe before reading, so a change between the read and the wait is not missed.
            let revision = store.backend.currentRevision
            let streams = prefixes.compactMap { try? store.backend.watch(prefix: $0, after: revision, bufferLimit: 64) }
            var settled = true
            do {
                settled = try await pass(schemas: schemas, levels: levels)
            } catch {
                logger.warning("flow control configuration: \(error)")
                settled = false
            }
            if !settled || streams.count < prefixes.count {
                streams.forEach { $0.cancel() }
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            await WatchStreams.firstChange(streams)
        }
    }

    /// One reconciliation; true when nothing was written (the next change wakes the loop), false to look again.
    func pass(schemas: ResourceDefinition, levels: ResourceDefinition) async throws -> Bool {
        var wrote = try await ensureBootstrap(FlowcontrolBootstrap.priorityLevels, definition: levels,
                                              mandatory: FlowcontrolBootstrap.mandatoryPriorityLevels)
        wrote = try await ensureBootstrap(FlowcontrolBootstrap.flowSchemas, definition: schemas,
                                          mandatory: FlowcontrolBootstrap.mandatoryFlowSchemas) || wrote
        let levelObjects = try list(levels)
        let schemaObjects = try list(schemas)
        controller.configure(flowSchemas: schemaObjects, priorityLevels: levelObjects)
        let levelNames = Set(levelObjects.map(\.name))
        for schema in schemaObjects {
            wrote = try await updateDangling(schema, exists: levelNames, definition: schemas) || wrote
        }
        return !wrote
    }

    func list(_ definition: ResourceDefinition) throws -> [JSONValue] {
        try store.backend.list(prefix: StorageKeys.prefix(definition, namespace: nil)).items.map { try store.decode($0) }
    }

    /// Creates missing bootstrap objects and restores the spec of those the server maintains; true when it wrote.
    func ensureBootstrap(_ objects: [JSONValue], definition: ResourceDefinition, mandatory: Set<String>) async throws -> Bool {
        var wrote = false
        for wanted in objects {
            guard let stored = store.backend.get(key: StorageKeys.key(definition, namespace: "", name: wanted.name)) else {
                // A conflict means another writer created it meanwhile: the next pass looks again.
                do { _ = try await store.create(definition, namespace: "", object: wanted) } catch { guard error.code == 409 else { throw error } }
                wrote = true
                continue
            }
            var current = try store.decode(stored)
            let autoUpdate = current.annotations[FlowcontrolBootstrap.autoUpdateAnnotation]
            guard autoUpdate == "true" || (autoUpdate == nil && mandatory.contains(wanted.name)) else { continue }
            var defaulted = wanted
            definition.strategy.applyDefaults(&defaulted)
            guard current["spec"] != defaulted["spec"] else { continue }
            logger.info("restoring the bootstrap spec of \(definition.kind) \(wanted.name)")
            current["spec"] = defaulted["spec"]
            do { _ = try await store.update(definition, namespace: "", name: wanted.name, object: current) } catch { guard error.code == 409 else { throw error } }
            wrote = true
        }
        return wrote
    }

    /// Sets the FlowSchema's `Dangling` condition: False when its priority level exists, True when it does not.
    func updateDangling(_ schema: JSONValue, exists levels: Set<String>, definition: ResourceDefinition) async throws -> Bool {
        let level = schema["spec"]["priorityLevelConfiguration"]["name"].stringValue ?? ""
        let found = levels.contains(level)
        let wanted: JSONValue = [
            "type": "Dangling", "status": found ? "False" : "True", "reason": found ? "Found" : "NotFound",
            "message": .string(found ? "This FlowSchema references the PriorityLevelConfiguration object named \"\(level)\" and it exists"
                                     : "This FlowSchema references the PriorityLevelConfiguration object named \"\(level)\" but there is no such object"),
        ]
        var conditions = schema["status"]["conditions"].arrayValue ?? []
        let index = conditions.firstIndex { $0["type"] == "Dangling" }
        if let index, conditions[index]["status"] == wanted["status"], conditions[index]["reason"] == wanted["reason"],
           conditions[index]["message"] == wanted["message"] { return false }
        var condition = wanted
        condition["lastTransitionTime"] = .string(KubeTime.format(store.now))
        if let index { conditions[index] = condition } else { conditions.append(condition) }
        var updated = schema
        updated["status"]["conditions"] = .array(conditions)
        do {
            _ = try await store.update(definition, namespace: "", name: schema.name, object: updated, target: .status)
        } catch {
            guard error.code == 409 || error.code == 404 else { throw error }
        }
        return true
    }
}

extension APIServer {
    /// The service that keeps flow control's configuration in step with the stored FlowSchemas and priority levels.
    public func flowcontrolConfigService() -> FlowcontrolConfigService {
        FlowcontrolConfigService(store: store, controller: flowControl, logger: logger)
    }
}
