import Foundation
import Testing
import TugAPIMachinery
@testable import TugControllers

@Suite struct NodeLifecycleTests {
    @Test func readyConditionIsFound() {
        let node: JSONValue = ["status": ["conditions": [["type": "MemoryPressure", "status": "False"], ["type": "Ready", "status": "True"]]]]
        #expect(NodeLifecycleController.readyCondition(node)?["status"] == "True")
        #expect(NodeLifecycleController.readyCondition(["status": [:]]) == nil)
    }
}
