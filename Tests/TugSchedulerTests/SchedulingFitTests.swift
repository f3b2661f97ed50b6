import Testing
import TugAPIMachinery
@testable import TugScheduler

@Suite struct SchedulingFitTests {
    func node(_ name: String, cpu: String = "2", memory: String = "4Gi", ready: Bool = true, labels: [String: JSONValue] = [:], taints: [JSONValue] = []) -> JSONValue {
        ["metadata": ["name": .string(name), "labels": .object(labels)], "spec": ["taints": .array(taints)],
         "status": ["allocatable": ["cpu": .string(cpu), "memory": .string(memory), "pods": "110"],
                    "conditions": [["type": "Ready", "status": ready ? "True" : "False"]]]]
    }

    func pod(cpu: String? = nil, selector: [String: JSONValue] = [:], tolerations: [JSONValue] = []) -> JSONValue {
        var container: JSONValue = ["name": "c"]
        if let cpu { container["resources"] = ["requests": ["cpu": .string(cpu)]] }
        return ["spec": ["containers": [container], "nodeSelector": .object(selector), "tolerations": .array(tolerations)]]
    }

    @Test func filters() {
        #expect(SchedulingFit.unfit(pod(), node: node("a"), used: .init()) == nil)
        #expect(SchedulingFit.unfit(pod(), node: node("a", ready: false), used: .init()) == "node(s) were not ready")
        #expect(SchedulingFit.unfit(pod(cpu: "1500m"), node: node("a"), used: .init(milliCPU: 1000, memory: 0, pods: 1)) == "Insufficient cpu")
        #expect(SchedulingFit.unfit(pod(selector: ["disk": "ssd"]), node: node("a"), used: .init()) == "node(s) didn't match Pod's node affinity/selector")
        #expect(SchedulingFit.unfit(pod(selector: ["disk": "ssd"]), node: node("a", labels: ["disk": "ssd"]), used: .init()) == nil)
        let taint: JSONValue = ["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]
        #expect(SchedulingFit.unfit(pod(), node: node("a", taints: [taint]), used: .init())?.hasPrefix("node(s) had untolerated taint") == true)
        let toleration: JSONValue = ["key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"]
        #expect(SchedulingFit.unfit(pod(tolerations: [toleration]), node: node("a", taints: [taint]), used: .init()) == nil)
    }

    @Test func prefersTheLeastAllocatedNode() {
        let busy = SchedulingFit.score(pod(cpu: "100m"), node: node("a"), used: .init(milliCPU: 1500, memory: 0, pods: 5))
        let idle = SchedulingFit.score(pod(cpu: "100m"), node: node("b"), used: .init())
        #expect(idle > busy)
        #expect(SchedulingFit.requests(of: pod(cpu: "250m")).milliCPU == 250)
    }
}
