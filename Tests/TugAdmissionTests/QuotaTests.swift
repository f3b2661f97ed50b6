import Testing
import TugAPIMachinery
@testable import TugAdmission

@Suite struct QuotaTests {
    static func pod(_ yaml: String) throws -> JSONValue { try YAMLDecoding.decode(yaml) }

    @Test func podsCountTheirRequestsAndLimitsAsUpstream() throws {
        let pod = try Self.pod("""
            spec:
              initContainers: [{name: i, resources: {requests: {cpu: "2"}}}]
              containers:
              - {name: a, resources: {requests: {cpu: 500m, memory: 64Mi}, limits: {memory: 128Mi}}}
              - {name: b, resources: {requests: {cpu: 250m, memory: 64Mi}}}
            """)
        let usage = QuotaUsage.usage(of: pod, resource: .init(group: "", resource: "pods"))
        // The init container's 2 CPUs exceed the containers' 750m together: the pod needs 2.
        #expect(usage["requests.cpu"] == 2000 && usage["cpu"] == 2000)
        #expect(usage["requests.memory"] == 128 * 1_048_576 * 1000 && usage["limits.memory"] == 128 * 1_048_576 * 1000)
        #expect(usage["pods"] == 1000 && usage["count/pods"] == 1000)
        var done = pod
        done["status"] = ["phase": "Succeeded"]
        #expect(QuotaUsage.usage(of: done, resource: .init(group: "", resource: "pods")).isEmpty)
    }

    @Test func keysNameTheirResources() {
        #expect(QuotaUsage.resource(forKey: "requests.cpu")?.resource == "pods")
        #expect(QuotaUsage.resource(forKey: "count/deployments.apps") == .init(group: "apps", resource: "deployments"))
        #expect(QuotaUsage.resource(forKey: "services.nodeports")?.resource == "services")
        #expect(QuotaUsage.resource(forKey: "gold.storageclass.storage.k8s.io/requests.storage")?.resource == "persistentvolumeclaims")
    }

    @Test func scopesSelectPods() throws {
        let quota = try Self.pod("spec: {scopes: [BestEffort], hard: {pods: '1'}}")
        let bestEffort = try Self.pod("spec: {containers: [{name: c}]}")
        let burstable = try Self.pod("spec: {containers: [{name: c, resources: {requests: {cpu: 1m}}}]}")
        #expect(QuotaUsage.selects(quota, bestEffort, resource: .init(group: "", resource: "pods")))
        #expect(!QuotaUsage.selects(quota, burstable, resource: .init(group: "", resource: "pods")))
        #expect(!QuotaUsage.selects(quota, bestEffort, resource: .init(group: "", resource: "configmaps")))
        let priority = try Self.pod("spec: {scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [high]}]}}")
        #expect(QuotaUsage.selects(priority, try Self.pod("spec: {priorityClassName: high}"), resource: .init(group: "", resource: "pods")))
        #expect(!QuotaUsage.selects(priority, bestEffort, resource: .init(group: "", resource: "pods")))
    }

    @Test func limitRangeBoundsWithUpstreamMessages() throws {
        let item = try Self.pod("{type: Container, min: {cpu: 100m}, max: {cpu: '1', memory: 1Gi}, maxLimitRequestRatio: {cpu: '2'}}")
        #expect(LimitRanger.bounds(item, requests: ["cpu": "50m"], limits: ["cpu": "2"], kind: "Container", ratio: true) == [
            "minimum cpu usage per Container is 100m, but request is 50m",
            "maximum cpu usage per Container is 1, but limit is 2",
            "maximum memory usage per Container is 1Gi.  No limit is specified",
            "cpu max limit to request ratio per Container is 2, but provided ratio is 40.000000",
        ])
        #expect(LimitRanger.bounds(item, requests: ["cpu": "500m"], limits: ["cpu": "1", "memory": "1Gi"], kind: "Container", ratio: true).isEmpty)
    }

    @Test func quantitiesPrintCanonically() {
        #expect(Quantity(milli: 1500).formatted(binary: false) == "1500m")
        #expect(Quantity(milli: 2000).formatted(binary: false) == "2")
        #expect(Quantity(milli: 3_000_000).formatted(binary: false) == "3k")
        #expect(Quantity(milli: 256 * 1_048_576 * 1000).formatted(binary: true) == "256Mi")
        #expect(Quantity(milli: 1_073_741_824 * 1000).formatted(binary: true) == "1Gi")
        #expect(Quantity(milli: 1000 * 1000).formatted(binary: true) == "1000")
        #expect(Quantity(milli: 0).formatted(binary: true) == "0")
    }
}
