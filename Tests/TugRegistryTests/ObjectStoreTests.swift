import Foundation
import Testing
import TugAPI
import TugAPIMachinery
@testable import TugRegistry
import TugStorage

func makeStore() async throws -> ObjectStore {
    let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend())
    try await Bootstrap.ensure(store, apiServerAddress: "127.0.0.1", apiServerPort: 6443)
    return store
}

extension Scheme {
    func def(_ group: String, _ resource: String) throws -> ResourceDefinition {
        try #require(definitions.first { $0.group == group && $0.resource == resource && $0.storageResource == nil })
    }
}

let podBody: JSONValue = ["metadata": ["name": "p", "labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]]

@Suite struct ObjectStoreTests {
    @Test func createFillsMetadataAndDefaults() async throws {
        let store = try await makeStore()
        let pods = try store.scheme.def("", "pods")
        let pod = try await store.create(pods, namespace: "default", object: podBody)
        #expect(!pod.uid.isEmpty)
        #expect(Int64(pod.resourceVersion) == store.backend.currentRevision)
        #expect(pod.generation == 1)
        #expect(pod.creationTimestamp.flatMap(KubeTime.parse) != nil)
        #expect(pod.kind == "Pod" && pod.apiVersion == "v1" && pod.namespace == "default")
        #expect(pod["spec"]["restartPolicy"] == "Always")
        #expect(pod["status"]["phase"] == "Pending")
    }

    @Test func kindsWithAStatusStartFromAnEmptyOne() async throws {
        let store = try await makeStore()
        let deployment: JSONValue = ["metadata": ["name": "d"], "spec": ["selector": ["matchLabels": ["a": "b"]],
                                     "template": ["metadata": ["labels": ["a": "b"]], "spec": ["containers": [["name": "c", "image": "busybox"]]]]]]
        let created = try await store.create(try store.scheme.def("apps", "deployments"), namespace: "default", object: deployment)
        #expect(created["status"] == .emptyObject, "status: {} as upstream's never-omitted status struct")
        let ingress: JSONValue = ["metadata": ["name": "i"], "spec": ["defaultBackend": ["service": ["name": "web", "port": ["number": 80]]]]]
        let routed = try await store.create(try store.scheme.def("networking.k8s.io", "ingresses"), namespace: "default", object: ingress)
        #expect(routed["status"] == ["loadBalancer": [:]])
        let configMap = try await store.create(try store.scheme.def("", "configmaps"), namespace: "default", object: ["metadata": ["name": "c"]])
        #expect(configMap["status"].isNull, "a kind without a status gets none")
        #expect(StatusError.notFound(GroupResource(group: "", resource: "pods"), name: "p").status["details"] == ["name": "p", "kind": "pods"],
                "the core group is left out of details, as upstream's omitempty")
    }

    @Test func createErrorsAreStatuses() async throws {
        let store = try await makeStore()
        let pods = try store.scheme.def("", "pods")
        _ = try await store.create(pods, namespace: "default", object: podBody)
        await #expect(throws: StatusError.alreadyExists(pods.groupResource, name: "p")) {
            _ = try await store.create(pods, namespace: "default", object: podBody)
        }
        await #expect(throws: StatusError.notFound(GroupResource(group: "", resource: "namespaces"), name: "nope")) {
            _ = try await store.create(pods, namespace: "nope", object: podBody)
        }
        do {
            _ = try await store.create(pods, namespace: "default", object: ["metadata": ["name": "x"], "spec": ["containers": [["name": "c"]]]])
            Issue.record("expected 422")
        } catch {
            #expect(error.code == 422)
            #expect(error.details?.causes.map(\.field) == ["spec.containers[0].image"])
        }
    }

    @Test func generateNameProducesUniqueNames() async throws {
        let store = try await makeStore()
        let cms = try store.scheme.def("", "configmaps")
        var names = Set<String>()
        for _ in 0..<20 {
            let cm = try await store.create(cms, namespace: "default", object: ["metadata": ["generateName": "cfg-"]])
            #expect(cm.name.hasPrefix("cfg-") && cm.name.count == 9)
            names.insert(cm.name)
        }
        #expect(names.count == 20)
    }

    @Test func updateChecksResourceVersionAndBumpsGenerationOnSpecOnly() async throws {
        let store = try await makeStore()
        let deployments = try store.scheme.def("apps", "deployments")
        let body: JSONValue = ["metadata": ["name": "web"], "spec": ["selector": ["matchLabels": ["app": "web"]],
                                                                    "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "x"]]]]]]
        let created = try await store.create(deployments, namespace: "default", object: body)
        var relabeled = created
        relabeled.labels = ["team": "a"]
        let labeled = try await store.update(deployments, namespace: "default", name: "web", object: relabeled)
        #expect(labeled.generation == 1)
        await #expect(throws: StatusError.conflict(deployments.groupResource, name: "web")) {
            _ = try await store.update(deployments, namespace: "default", name: "web", object: relabeled)
        }
        var scaled = labeled
        scaled["spec"]["replicas"] = 3
        scaled["status"] = ["replicas": 99]
        let updated = try await store.update(deployments, namespace: "default", name: "web", object: scaled)
        #expect(updated.generation == 2)
        #expect(updated["status"]["replicas"].isNull, "the main resource may not write status")
        var status = updated
        status["status"] = ["replicas": 3]
        let withStatus = try await store.update(deployments, namespace: "default", name: "web", object: status, target: .status)
        #expect(withStatus["status"]["replicas"] == 3)
        #expect(withStatus.generation == 2)
    }

    @Test func patchTypes() async throws {
        let store = try await makeStore()
        let pods = try store.scheme.def("", "pods")
        _ = try await store.create(pods, namespace: "default", object: podBody)
        let (merged, _) = try await store.patch(pods, namespace: "default", name: "p", type: .merge, body: Array(#"{"metadata":{"labels":{"x":"y","app":null}}}"#.utf8))
        #expect(merged.labels == ["x": "y"])
        let (json, _) = try await store.patch(pods, namespace: "default", name: "p", type: .json, body: Array(#"[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]"#.utf8))
        #expect(json.annotations == ["a": "b"])
        let (smp, _) = try await store.patch(pods, namespace: "default", name: "p", type: .strategic, body: Array(#"{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}"#.utf8))
        #expect(smp["spec"]["containers"][0]["image"] == "busybox:2")
        #expect(smp["spec"]["containers"][0]["terminationMessagePath"] == "/dev/termination-log")
        await #expect(throws: StatusError.self) {
            _ = try await store.patch(pods, namespace: "default", name: "p", type: .merge, body: Array(#"{"metadata":{"resourceVersion":"1"}}"#.utf8))
        }
        let (applied, created) = try await store.patch(pods, namespace: "default", name: "q", type: .apply,
                                                       body: Array("apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  containers:\n  - name: c\n    image: x\n".utf8))
        #expect(created && applied.name == "q")
    }

    @Test func finalizersDelayDeletion() async throws {
        let store = try await makeStore()
        let cms = try store.scheme.def("", "configmaps")
        _ = try await store.create(cms, namespace: "default", object: ["metadata": ["name": "f", "finalizers": ["example.com/hold"]]])
        guard case .pending(let pending) = try await store.delete(cms, namespace: "default", name: "f") else {
            Issue.record("expected a pending deletion"); return
        }
        #expect(pending.deletionTimestamp != nil)
        var released = pending
        released.finalizers = []
        _ = try await store.update(cms, namespace: "default", name: "f", object: released)
        #expect(throws: StatusError.self) { _ = try store.get(cms, namespace: "default", name: "f") }
    }

    @Test func servicesGetClusterIPsAndNodePorts() async throws {
        let store = try await makeStore()
        let services = try store.scheme.def("", "services")
        let a = try await store.create(services, namespace: "default", object: ["metadata": ["name": "a"], "spec": ["type": "NodePort", "ports": [["port": 80]]]])
        let b = try await store.create(services, namespace: "default", object: ["metadata": ["name": "b"], "spec": ["ports": [["port": 80]]]])
        #expect(a["spec"]["clusterIP"] != b["spec"]["clusterIP"])
        #expect(a["spec"]["ports"][0]["targetPort"] == 80)
        #expect((30000...32767).contains(a["spec"]["ports"][0]["nodePort"].intValue ?? 0))
        await #expect(throws: StatusError.self) {
            _ = try await store.create(services, namespace: "default", object: ["metadata": ["name": "c"], "spec": ["clusterIP": b["spec"]["clusterIP"], "ports": [["port": 80]]]])
        }
    }

    @Test func namespaceDeletionEmptiesTheNamespace() async throws {
        let store = try await makeStore()
        let namespaces = try store.scheme.def("", "namespaces")
        let cms = try store.scheme.def("", "configmaps")
        _ = try await store.create(namespaces, namespace: "", object: ["metadata": ["name": "team"]])
        for i in 0..<3 { _ = try await store.create(cms, namespace: "team", object: ["metadata": ["name": .string("c\(i)")]]) }
        _ = try await store.delete(namespaces, namespace: "", name: "team")
        await #expect(throws: StatusError.self) { _ = try await store.create(cms, namespace: "team", object: ["metadata": ["name": "late"]]) }
        let lifecycle = NamespaceLifecycle(store: store)
        let ns = try store.getObject(namespaces, namespace: "", name: "team")
        #expect(ns["status"]["phase"] == "Terminating")
        try await lifecycle.finalize(ns, namespaces)  // deletes the contents
        try await lifecycle.finalize(ns, namespaces)  // then the namespace
        #expect(store.backend.list(prefix: StorageKeys.prefix(cms, namespace: "team")).items.isEmpty)
        #expect(throws: StatusError.self) { _ = try store.get(namespaces, namespace: "", name: "team") }
    }

    @Test func listPagesWithContinueTokens() async throws {
        let store = try await makeStore()
        let cms = try store.scheme.def("", "configmaps")
        for i in 0..<5 { _ = try await store.create(cms, namespace: "default", object: ["metadata": ["name": .string("c\(i)"), "labels": ["i": .string("\(i % 2)")]]]) }
        let first = try store.list(cms, namespace: "default", labels: .init(), fields: .init(), limit: 2)
        #expect(first.items.count == 2 && first.remaining == 3)
        let second = try store.list(cms, namespace: "default", labels: .init(), fields: .init(), limit: 2, continueToken: first.continueToken)
        #expect(second.items.map(\.key).allSatisfy { !first.items.map(\.key).contains($0) })
        let odd = try store.list(cms, namespace: nil, labels: try LabelSelector.parse("i=1"), fields: .init())
        #expect(odd.items.count == 2)
        // One match per page through a selector: every match once, in order, and no count of what remains.
        var pages: [[String]] = []
        var token: String?
        repeat {
            let page = try store.list(cms, namespace: "default", labels: try LabelSelector.parse("i=0"), fields: .init(), limit: 1, continueToken: token)
            pages.append(page.items.map { String($0.key.split(separator: "/").last ?? "") })
            #expect(page.remaining == nil)
            token = page.continueToken
        } while token != nil
        #expect(pages.flatMap { $0 } == ["c0", "c2", "c4"])
        #expect(pages.count == 3)
    }
}

@Suite struct ServerSideApplyTests {
    @Test func reapplyRemovesFieldsTheManagerNoLongerSets() async throws {
        let store = try await makeStore()
        let cms = try store.scheme.def("", "configmaps")
        let first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {x: \"1\", y: \"2\"}\ndata:\n  k1: v1\n  k2: v2\n"
        let (created, isNew) = try await store.patch(cms, namespace: "default", name: "a", type: .apply, body: Array(first.utf8), fieldManager: "me")
        #expect(isNew)
        #expect(created["metadata"]["managedFields"][0]["manager"] == "me")
        #expect(created["metadata"]["managedFields"][0]["fieldsV1"]["f:data"] == ["f:k1": .emptyObject, "f:k2": .emptyObject])
        // Another writer adds a field the apply manager does not own.
        _ = try await store.patch(cms, namespace: "default", name: "a", type: .merge, body: Array(#"{"data":{"other":"o"}}"#.utf8))
        let second = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: {x: \"1\"}\ndata:\n  k1: v1b\n"
        let (updated, _) = try await store.patch(cms, namespace: "default", name: "a", type: .apply, body: Array(second.utf8), fieldManager: "me")
        #expect(updated["data"] == ["k1": "v1b", "other": "o"])
        #expect(updated.labels == ["x": "1"])
        #expect(updated["metadata"]["managedFields"].arrayValue?.count == 1)
    }

    @Test func conflictsBetweenApplyManagersAndForce() async throws {
        let store = try await makeStore()
        let cms = try store.scheme.def("", "configmaps")
        let mine = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\", b: \"1\"}\n"
        _ = try await store.patch(cms, namespace: "default", name: "c", type: .apply, body: Array(mine.utf8), fieldManager: "one")
        // The same value is shared ownership, not a conflict.
        let same = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"1\"}\n"
        _ = try await store.patch(cms, namespace: "default", name: "c", type: .apply, body: Array(same.utf8), fieldManager: "two")
        let other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: \"2\"}\n"
        do {
            _ = try await store.patch(cms, namespace: "default", name: "c", type: .apply, body: Array(other.utf8), fieldManager: "three")
            Issue.record("expected a conflict")
        } catch {
            #expect(error.code == 409)
            #expect(error.message == "Apply failed with 2 conflicts: - conflict with \"one\" using v1: .data.a\n- conflict with \"two\" using v1: .data.a")
            #expect(error.details?.causes.map(\.field) == [".data.a", ".data.a"])
        }
        let (forced, _) = try await store.patch(cms, namespace: "default", name: "c", type: .apply, body: Array(other.utf8), fieldManager: "three", force: true)
        #expect(forced["data"] == ["a": "2", "b": "1"])
        let owners = forced["metadata"]["managedFields"].arrayValue?.reduce(into: JSONObject()) { $0[$1["manager"].stringValue ?? ""] = $1["fieldsV1"]["f:data"] }
        #expect(owners?["one"] == ["f:b": .emptyObject])
        #expect(owners?["three"] == ["f:a": .emptyObject])
    }

    @Test func keyedListElementsAreOwnedByKey() async throws {
        let store = try await makeStore()
        let deployments = try store.scheme.def("apps", "deployments")
        let applied = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              selector: {matchLabels: {app: d}}
              template:
                metadata: {labels: {app: d}}
                spec:
                  containers:
                  - name: c
                    image: x
                    env: [{name: A, value: a}, {name: B, value: b}]
            """
        _ = try await store.patch(deployments, namespace: "default", name: "d", type: .apply, body: Array(applied.utf8), fieldManager: "me")
        let fewer = applied.replacingOccurrences(of: ", {name: B, value: b}", with: "")
        let (d, _) = try await store.patch(deployments, namespace: "default", name: "d", type: .apply, body: Array(fewer.utf8), fieldManager: "me")
        let container = d["spec"]["template"]["spec"]["containers"][0]
        #expect(container["env"] == [["name": "A", "value": "a"]])
        #expect(container["terminationMessagePath"] == "/dev/termination-log", "defaults are not owned, so they stay")
        #expect(d["spec"]["replicas"] == 1)
    }
}

@Suite struct ServiceNetworkTests {
    @Test func cidrsAreCheckedAndAddressesDerived() throws {
        let network = try ServiceNetwork(cidr: "10.96.0.0/24")
        #expect(network.size == 256)
        #expect(network.kubernetesIP == "10.96.0.1")
        #expect(network.dnsIP == "10.96.0.10")
        #expect(network.description == "10.96.0.0/24")
        #expect(throws: ServiceNetwork.ParseError.self) { try ServiceNetwork(cidr: "10.96.0.1/24") }
        #expect(throws: ServiceNetwork.ParseError.self) { try ServiceNetwork(cidr: "10.96.0.0/30") }
        #expect(throws: ServiceNetwork.ParseError.self) { try ServiceNetwork(cidr: "fd00::/108") }
    }

    @Test func clusterIPsComeFromTheConfiguredRange() async throws {
        let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend(), serviceNetwork: try ServiceNetwork(cidr: "10.96.0.0/24"))
        try await Bootstrap.ensure(store, apiServerAddress: "127.0.0.1", apiServerPort: 6443)
        let services = try #require(store.scheme.resource(group: "", version: "v1", resource: "services"))
        let kubernetes = try store.get(services, namespace: "default", name: "kubernetes")
        #expect(try store.decode(kubernetes)["spec"]["clusterIP"] == "10.96.0.1")
        let web = try await store.create(services, namespace: "default", object: ["metadata": ["name": "web"], "spec": ["ports": [["port": 80]]]])
        #expect(web["spec"]["clusterIP"] == "10.96.0.11", "the first ten addresses are kept for kubernetes and DNS")
        do {
            _ = try await store.create(services, namespace: "default", object: ["metadata": ["name": "outside"], "spec": ["clusterIP": "10.43.0.50", "ports": [["port": 80]]]])
            Issue.record("an address outside the range was accepted")
        } catch {
            #expect(error.reason == .invalid)
            #expect(error.message.contains("The range of valid IPs is 10.96.0.0/24"))
        }
    }
}
