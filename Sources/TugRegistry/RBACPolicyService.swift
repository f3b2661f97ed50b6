import Logging
public import ServiceLifecycle
import TugAPI
import TugAPIMachinery
import TugAuth
import TugStorage

/// Keeps RBAC current, as kube-apiserver's RBAC post-start hook, its informers and kube-controller-manager's
/// clusterrole-aggregation controller together: puts the bootstrap policy in place, fills aggregated ClusterRoles
/// with the rules of the roles their selectors match, and recompiles the authorizer's policy after every change to
/// a Role, ClusterRole or binding.
public struct RBACPolicyService: Service {
    let store: ObjectStore
    let logger: Logger
    /// Opened once `prepare` has run (at start-up the two would only race each other for the store).
    let startAfter: Gate?
    static let group = "rbac.authorization.k8s.io"

    public init(store: ObjectStore, startAfter: Gate? = nil, logger: Logger = Logger(label: "tug.rbac")) {
        self.store = store
        self.startAfter = startAfter
        self.logger = logger
    }

    struct Kinds {
        let roles: ResourceDefinition
        let clusterRoles: ResourceDefinition
        let roleBindings: ResourceDefinition
        let clusterRoleBindings: ResourceDefinition

        init?(_ store: ObjectStore) {
            guard let roles = store.definition(group: RBACPolicyService.group, resource: "roles"),
                  let clusterRoles = store.definition(group: RBACPolicyService.group, resource: "clusterroles"),
                  let roleBindings = store.definition(group: RBACPolicyService.group, resource: "rolebindings"),
                  let clusterRoleBindings = store.definition(group: RBACPolicyService.group, resource: "clusterrolebindings") else { return nil }
            (self.roles, self.clusterRoles, self.roleBindings, self.clusterRoleBindings) = (roles, clusterRoles, roleBindings, clusterRoleBindings)
        }

        var all: [ResourceDefinition] { [roles, clusterRoles, roleBindings, clusterRoleBindings] }
    }

    /// Reconciles the bootstrap policy, aggregates and compiles: done before the server reports ready, so the
    /// first request of any component is authorized against the whole policy.
    public static func prepare(_ store: ObjectStore, logger: Logger = Logger(label: "tug.rbac")) async throws {
        guard let kinds = Kinds(store) else { return }
        let reconciler = BootstrapReconciler(store: store, logger: logger)
        // Side by side, so the store commits a first start's objects in a few transactions (one after another
        // they took 80 ms, past the server's start-up budget).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for role in BootstrapPolicy.clusterRoles { group.addTask { try await reconciler.ensure(role, definition: kinds.clusterRoles) } }
            for binding in BootstrapPolicy.clusterRoleBindings {
                group.addTask { try await reconciler.ensure(binding, definition: kinds.clusterRoleBindings) }
            }
            try await group.waitForAll()
        }
        let service = RBACPolicyService(store: store, logger: logger)
        _ = try await service.aggregate(kinds)
        try service.compile(kinds)
    }

    public func run() async throws {
        guard let kinds = Kinds(store) else { return }
        await startAfter?.wait()
        let prefixes = kinds.all.map { StorageKeys.prefix($0, namespace: nil) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Subscribe before reading, so a change between the read and the wait is not missed.
            let revision = store.backend.currentRevision
            let streams = prefixes.compactMap { try? store.backend.watch(prefix: $0, after: revision, bufferLimit: 256) }
            var settled = streams.count == prefixes.count
            do {
                if try await aggregate(kinds) { settled = false }
                try compile(kinds)
            } catch {
                logger.warning("RBAC policy: \(error)")
                settled = false
            }
            if !settled {
                streams.forEach { $0.cancel() }
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            await WatchStreams.firstChange(streams)
        }
    }

    func list(_ definition: ResourceDefinition) throws -> [JSONValue] {
        try store.backend.list(prefix: StorageKeys.prefix(definition, namespace: nil)).items.map { try store.decode($0) }
    }

    /// Compiles the stored objects into the authorizer's policy.
    func compile(_ kinds: Kinds) throws {
        let policy = RBACPolicy(roles: try list(kinds.roles), clusterRoles: try list(kinds.clusterRoles),
                                roleBindings: try list(kinds.roleBindings), clusterRoleBindings: try list(kinds.clusterRoleBindings))
        store.authorization.rbac.replace(policy)
    }

    /// Brings every aggregated ClusterRole's rules up to date; true when it wrote (the chain may need another pass).
    func aggregate(_ kinds: Kinds) async throws -> Bool {
        var wrote = false
        for _ in 0..<8 {
            let roles = try list(kinds.clusterRoles)
            var updates: [JSONValue] = []
            for role in roles {
                guard let rules = ClusterRoleAggregation.rules(for: role, among: roles), (role["rules"].arrayValue ?? []) != rules else { continue }
                var updated = role
                updated["rules"] = .array(rules)
                updates.append(updated)
            }
            guard !updates.isEmpty else { return wrote }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for updated in updates {
                    group.addTask {
                        do {
                            _ = try await store.update(kinds.clusterRoles, namespace: "", name: updated.name, object: updated)
                        } catch let error as StatusError {
                            // Someone else wrote it meanwhile: the next pass reads it again.
                            guard error.code == 409 || error.code == 404 else { throw error }
                        }
                    }
                }
                try await group.waitForAll()
            }
            wrote = true
        }
        return wrote
    }
}

/// Upstream's additive reconciliation of bootstrap RBAC objects: a missing object is created; one whose
/// `rbac.authorization.kubernetes.io/autoupdate` is not "false" gets back any rule, subject, label or annotation
/// of the bootstrap version it lacks (what users added stays); a binding whose role reference changed is replaced.
struct BootstrapReconciler {
    let store: ObjectStore
    let logger: Logger

    func ensure(_ wanted: JSONValue, definition: ResourceDefinition) async throws {
        guard let stored = store.backend.get(key: StorageKeys.key(definition, namespace: "", name: wanted.name)) else {
            do { _ = try await store.create(definition, namespace: "", object: wanted) } catch { guard error.code == 409 else { throw error } }
            return
        }
        let current = try store.decode(stored)
        guard current.annotations[BootstrapPolicy.autoUpdateAnnotation] != "false" else { return }
        if !wanted["roleRef"].isNull, current["roleRef"] != wanted["roleRef"] {
            logger.info("replacing \(definition.kind) \(wanted.name): its roleRef differs from the bootstrap policy")
            _ = try await store.delete(definition, namespace: "", name: wanted.name)
            _ = try await store.create(definition, namespace: "", object: wanted)
            return
        }
        var updated = current
        for (key, value) in wanted.labels where current.labels[key] == nil { updated["metadata"]["labels"][key] = .string(value) }
        for (key, value) in wanted.annotations where current.annotations[key] == nil { updated["metadata"]["annotations"][key] = .string(value) }
        if current["aggregationRule"].isNull, !wanted["aggregationRule"].isNull { updated["aggregationRule"] = wanted["aggregationRule"] }
        // An aggregated role's rules are the aggregation's to keep.
        if wanted["aggregationRule"].isNull {
            let held = (current["rules"].arrayValue ?? []).map(PolicyRule.init(json:))
            let missing = (wanted["rules"].arrayValue ?? []).filter { !RuleCoverage.uncovered(owned: held, requested: [PolicyRule(json: $0)]).isEmpty }
            if !missing.isEmpty { updated["rules"] = .array((current["rules"].arrayValue ?? []) + missing) }
        }
        let subjects = current["subjects"].arrayValue ?? []
        func identity(_ subject: JSONValue) -> [String?] { ["kind", "name", "namespace"].map { subject[$0].stringValue } }
        let held = Set(subjects.map(identity))
        let missingSubjects = (wanted["subjects"].arrayValue ?? []).filter { !held.contains(identity($0)) }
        if !missingSubjects.isEmpty { updated["subjects"] = .array(subjects + missingSubjects) }
        guard updated != current else { return }
        logger.info("restoring the bootstrap \(definition.kind) \(wanted.name)")
        do { _ = try await store.update(definition, namespace: "", name: wanted.name, object: updated) } catch { guard error.code == 409 else { throw error } }
    }
}
