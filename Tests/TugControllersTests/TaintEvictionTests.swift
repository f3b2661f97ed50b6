import Foundation
import Testing
import TugAPIMachinery
@testable import TugControllers

@Suite struct TaintEvictionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let unreachable: JSONValue = ["key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": .string(KubeTime.format(now.addingTimeInterval(-100)))]

    static func pod(_ tolerations: [JSONValue]) -> JSONValue { ["spec": ["tolerations": .array(tolerations)]] }

    @Test func anUntoleratedTaintEvictsAtOnce() {
        #expect(TaintEvictionController.evictionTime(Self.pod([]), taints: [Self.unreachable], now: Self.now) == Self.now)
    }

    @Test func tolerationSecondsCountFromWhenTheTaintWasAdded() {
        let pod = Self.pod([["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]])
        #expect(TaintEvictionController.evictionTime(pod, taints: [Self.unreachable], now: Self.now) == Self.now.addingTimeInterval(200))
    }

    @Test func anUnlimitedTolerationKeepsThePod() {
        let pod = Self.pod([["operator": "Exists"]])
        #expect(TaintEvictionController.evictionTime(pod, taints: [Self.unreachable], now: Self.now) == nil)
    }

    @Test func noScheduleTaintsDoNotEvict() {
        let taint: JSONValue = ["key": "dedicated", "effect": "NoSchedule"]
        #expect(TaintEvictionController.evictionTime(Self.pod([]), taints: [taint], now: Self.now) == nil)
    }

    @Test func theNodeControllerTaintsBothEffects() {
        let node: JSONValue = ["spec": ["taints": [["key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"]]]]
        #expect(!NodeLifecycleController.hasTaints(node, NodeLifecycleController.unreachable))
        #expect(NodeLifecycleController.hasTaints(node, NodeLifecycleController.unreachable, any: true))
    }
}
