import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TugAPIMachinery
import TugAuth
import TugClient

/// `tug bench authz`: what authorization costs. In process: one decision of the Node,RBAC chain against the
/// bootstrap policy plus `--cluster-roles` ClusterRoles and `--role-bindings` RoleBindings (a service account
/// allowed, one refused, the admin). Over HTTPS against a fresh `tug server` holding the same objects: GETs as a
/// service account (token) and as the admin (client certificate), and the start-up time with the bootstrap policy.
struct AuthzBench: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "authz", abstract: "Benchmark authorization (RBAC) per request.")

    @Option(help: "ClusterRoles besides the bootstrap ones.")
    var clusterRoles = 200

    @Option(help: "RoleBindings, spread over 100 namespaces.")
    var roleBindings = 1000

    @Option(help: "Decisions per in-process figure.")
    var decisions = 200_000

    @Option(help: "GETs per HTTPS figure.")
    var gets = 2000

    func execute() async throws {
        print("command: tug bench authz --cluster-roles \(clusterRoles) --role-bindings \(roleBindings) --decisions \(decisions) --gets \(gets)")
        let (roles, bindings) = objects()
        inProcess(roles: roles, bindings: bindings)
        try await overHTTPS(roles: roles, bindings: bindings)
    }

    /// The extra ClusterRoles (five rules each) and RoleBindings (a service account of each namespace bound to one).
    func objects() -> (roles: [JSONValue], bindings: [JSONValue]) {
        let roles: [JSONValue] = (0..<clusterRoles).map { i in
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": ["name": .string("bench-role-\(i)")],
             "rules": .array((0..<5).map { j in ["verbs": ["get", "list"], "apiGroups": [""], "resources": .array([.string("res\(i)-\(j)"), "configmaps"])] })]
        }
        let bindings: [JSONValue] = (0..<roleBindings).map { i in
            ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": .string("bench-binding-\(i)"), "namespace": .string("bench-\(i % 100)")],
             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string("bench-role-\(i % max(1, clusterRoles))")],
             "subjects": [["kind": "ServiceAccount", "name": .string("sa-\(i / 100)"), "namespace": .string("bench-\(i % 100)")]]]
        }
        return (roles, bindings)
    }

    func inProcess(roles: [JSONValue], bindings: [JSONValue]) {
        var clusterRoleObjects = BootstrapPolicy.clusterRoles + roles
        for _ in 0..<3 {
            clusterRoleObjects = clusterRoleObjects.map { role in
                var role = role
                if let rules = ClusterRoleAggregation.rules(for: role, among: clusterRoleObjects) { role["rules"] = .array(rules) }
                return role
            }
        }
        let compileStart = ContinuousClock.now
        let policy = RBACPolicy(roles: [], clusterRoles: clusterRoleObjects, roleBindings: bindings, clusterRoleBindings: BootstrapPolicy.clusterRoleBindings)
        let compiled = ContinuousClock.now - compileStart
        let chain = ClusterAuthorization(rbac: RBACAuthorizer(policy))
        let account = UserInfo.serviceAccount(namespace: "bench-7", name: "sa-3")
        let cases: [(String, AuthorizationAttributes, Bool)] = [
            ("service account, allowed", AuthorizationAttributes(user: account, verb: "get", apiGroup: "", resource: "configmaps", namespace: "bench-7", name: "c"), true),
            ("service account, refused", AuthorizationAttributes(user: account, verb: "get", apiGroup: "", resource: "secrets", namespace: "bench-7", name: "s"), false),
            ("admin (system:masters)", AuthorizationAttributes(user: .admin, verb: "get", apiGroup: "", resource: "configmaps", namespace: "bench-7", name: "c"), true),
        ]
        print(String(format: "policy: %d ClusterRoles, %d bindings, compiled in %.1f ms", clusterRoleObjects.count,
                     bindings.count + BootstrapPolicy.clusterRoleBindings.count, Double(compiled.nanoseconds) / 1e6))
        for (name, attributes, expected) in cases {
            var samples: [Int64] = []
            samples.reserveCapacity(decisions)
            for _ in 0..<decisions {
                let start = ContinuousClock.now
                let decision = chain.authorize(attributes)
                samples.append((ContinuousClock.now - start).nanoseconds)
                precondition(decision.allowed == expected, "\(name): unexpected decision \(decision)")
            }
            samples.sort()
            print(String(format: "decision, %@: p50 %.2f µs, p99 %.2f µs (n=%d)", name, Double(samples[samples.count / 2]) / 1000,
                         Double(samples[Int(Double(samples.count) * 0.99)]) / 1000, samples.count))
        }
    }

    func overHTTPS(roles: [JSONValue], bindings: [JSONValue]) async throws {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-bench-authz-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let port = try FreePort.find()
        let (process, admin, ready) = try await BenchServer.start(dataDir: dataDir, port: port, arguments: ["--disable-agent"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        print(String(format: "start-up with the bootstrap policy: ready in %.0f ms", Double(ready.nanoseconds) / 1e6))
        for i in 0..<100 { _ = try await admin.create("/api/v1/namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string("bench-\(i)")]]) }
        for role in roles { _ = try await admin.create("/apis/rbac.authorization.k8s.io/v1/clusterroles", role) }
        for binding in bindings {
            _ = try await admin.create("/apis/rbac.authorization.k8s.io/v1/namespaces/\(binding.namespace)/rolebindings", binding)
        }
        _ = try await admin.create("/api/v1/namespaces/bench-7/serviceaccounts", ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "sa-3"]])
        _ = try await admin.create("/api/v1/namespaces/bench-7/configmaps", ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]])
        let review = try await admin.create("/api/v1/namespaces/bench-7/serviceaccounts/sa-3/token", ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": [:]])
        let config = try Kubeconfig.load(path: "\(dataDir)/admin.kubeconfig")
        let account = try RESTClient(kubeconfig: Kubeconfig(server: config.server, caPEM: config.caPEM, token: review["status"]["token"].stringValue))
        // The binding is compiled moments after it is written.
        let deadline = ContinuousClock.now + .seconds(10)
        while try await account.request(.GET, "/api/v1/namespaces/bench-7/configmaps/c").status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        for (name, client) in [("service account (token)", account), ("admin (client certificate)", admin)] {
            var samples: [Duration] = []
            for _ in 0..<gets {
                let start = ContinuousClock.now
                let response = try await client.request(.GET, "/api/v1/namespaces/bench-7/configmaps/c")
                samples.append(ContinuousClock.now - start)
                guard response.status == 200 else { throw CommandFailure("GET as \(name): HTTP \(response.status)") }
            }
            print("GET over HTTPS, \(name): \(APIBench.percentiles(samples))")
        }
        try await account.shutdown()
        try await admin.shutdown()
    }
}
