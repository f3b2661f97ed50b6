import Foundation
import Synchronization
import Testing
import TugAPIMachinery
import TugAuth
@testable import TugAPIServer
import TugTestSupport

/// API Priority and Fairness without a server: classification by the bootstrap schemas, shuffle sharding, fair
/// dispatch between flows, queue limits, deadlines, cancellation and borrowing.
struct FlowControllerTests {
    static func digest(_ user: UserInfo, _ verb: String, group: String = "", resource: String, namespace: String = "") -> RequestDigest {
        RequestDigest(user: user, verb: verb, resource: .init(group: group, resource: resource, namespace: namespace), path: "/")
    }

    static func nonResource(_ user: UserInfo, _ path: String) -> RequestDigest {
        RequestDigest(user: user, verb: "get", resource: nil, path: path)
    }

    /// A level of `shares` with the given queuing, and schemas sending every service account of `namespace` to it.
    static func controller(shares: Int64, queues: Int64 = 8, handSize: Int64 = 2, queueLength: Int64 = 10, reject: Bool = false,
                           lendable: Int64 = 0, borrowingLimit: Int64? = 0, serverConcurrency: Int = 6,
                           waitLimit: Duration = .seconds(15)) -> FlowController {
        let flow = FlowController(serverConcurrency: serverConcurrency, queueWaitLimit: waitLimit)
        var limited: JSONValue = ["nominalConcurrencyShares": .int(shares), "lendablePercent": .int(lendable),
                                  "limitResponse": reject ? ["type": "Reject"] : ["type": "Queue", "queuing": [
                                      "queues": .int(queues), "handSize": .int(handSize), "queueLengthLimit": .int(queueLength)]]]
        if let borrowingLimit { limited["borrowingLimitPercent"] = .int(borrowingLimit) }
        let level: JSONValue = ["metadata": ["name": "tiny", "uid": "level-uid"], "spec": ["type": "Limited", "limited": limited]]
        let schema: JSONValue = ["metadata": ["name": "test", "uid": "schema-uid"], "spec": [
            "priorityLevelConfiguration": ["name": "tiny"], "matchingPrecedence": 100, "distinguisherMethod": ["type": "ByUser"],
            "rules": [["subjects": [["kind": "ServiceAccount", "serviceAccount": ["namespace": "test", "name": "*"]]],
                       "resourceRules": [["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true]]]],
        ]]
        // Only the mandatory levels besides: catch-all has 5 shares, exempt none.
        flow.configure(flowSchemas: [schema], priorityLevels: [level])
        return flow
    }

    static func user(_ name: String) -> RequestDigest {
        digest(.serviceAccount(namespace: "test", name: name), "get", resource: "configmaps", namespace: "test")
    }

    @Test func bootstrapSchemasClassifyAsUpstream() {
        let flow = FlowController()
        func classify(_ d: RequestDigest) -> (String, String) {
            flow.state.withLock { s in
                let levels = s.levels
                let schema = s.classifier.classify(d) { levels[$0] != nil }
                return (schema?.name ?? "", schema?.priorityLevel ?? "")
            }
        }
        #expect(classify(Self.digest(.admin, "delete", resource: "pods", namespace: "x")) == ("exempt", "exempt"))
        #expect(classify(Self.digest(.node("n1"), "update", group: "coordination.k8s.io", resource: "leases", namespace: "kube-node-lease"))
                == ("system-node-high", "node-high"))
        #expect(classify(Self.digest(.node("n1"), "patch", resource: "nodes/status")) == ("system-node-high", "node-high"))
        #expect(classify(Self.digest(.node("n1"), "list", resource: "pods")) == ("system-nodes", "system"))
        #expect(classify(Self.digest(.serviceAccount(namespace: "kube-system", name: "x"), "update", group: "coordination.k8s.io",
                                     resource: "leases", namespace: "kube-system")) == ("system-leader-election", "leader-election"))
        #expect(classify(Self.digest(.serviceAccount(namespace: "kube-system", name: "x"), "list", resource: "pods"))
                == ("kube-system-service-accounts", "workload-high"))
        #expect(classify(Self.digest(.serviceAccount(namespace: "apps", name: "x"), "create", resource: "configmaps", namespace: "apps"))
                == ("service-accounts", "workload-low"))
        #expect(classify(Self.nonResource(.anonymous, "/readyz")) == ("probes", "exempt"))
        #expect(classify(Self.nonResource(.anonymous, "/version")) == ("global-default", "global-default"))
        #expect(classify(Self.digest(UserInfo(name: "system:kube-scheduler", groups: ["system:authenticated"]), "create", resource: "pods/binding",
                                     namespace: "a")) == ("kube-scheduler", "workload-high"))
    }

    @Test func handsAreDistinctStableAndSpread() {
        var hands = Set<[Int]>()
        for flow in 0..<200 {
            let hash = ShuffleSharding.hash(schema: "s", distinguisher: "user-\(flow)")
            let hand = ShuffleSharding.deal(hash: hash, deckSize: 64, handSize: 6)
            #expect(hand.count == 6 && Set(hand).count == 6 && hand.allSatisfy { (0..<64).contains($0) })
            #expect(hand == ShuffleSharding.deal(hash: hash, deckSize: 64, handSize: 6))
            hands.insert(hand.sorted())
        }
        #expect(hands.count == 200)
        #expect(ShuffleSharding.deal(hash: 12345, deckSize: 3, handSize: 8).sorted() == [0, 1, 2])
    }

    @Test func nominalSeatsFollowShares() {
        let flow = FlowController()
        let nominal = flow.state.withLock { s in s.levels.mapValues(\.nominal) }
        // Upstream's figures for 600 seats and 245 shares.
        #expect(nominal["workload-low"] == 245 && nominal["node-high"] == 98 && nominal["catch-all"] == 13 && nominal["exempt"] == 0)
    }

    @Test func aQueuedRequestOfAnotherFlowGoesBeforeTheFloodersBacklog() async throws {
        // 1 share of 6 at 6 seats: one seat.
        let flow = Self.controller(shares: 1)
        guard case .admitted(let running, let c) = await flow.admit(Self.user("flooder"), seats: 1) else { Issue.record("not admitted"); return }
        #expect(c.schemaUID == "schema-uid" && c.level == "tiny" && c.levelUID == "level-uid")
        let order = Recorder()
        @Sendable func send(_ who: String) async {
            guard case .admitted(let ticket, _) = await flow.admit(Self.user(who), seats: 1) else { return }
            order.names.withLock { $0.append(who) }
            flow.finish(ticket)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { await send("flooder") } }
            try await eventually("4 waiting", timeout: .seconds(5), every: .milliseconds(2)) { flow.state.withLock { $0.levels["tiny"]?.waiting } == 4 }
            group.addTask { await send("victim") }
            try await eventually("5 waiting", timeout: .seconds(5), every: .milliseconds(2)) { flow.state.withLock { $0.levels["tiny"]?.waiting } == 5 }
            flow.finish(running)
            try await group.waitForAll()
        }
        let dispatched = order.names.withLock { $0 }
        #expect(dispatched.count == 5)
        // Fair queuing: the victim does not wait behind the flooder's four.
        #expect(dispatched.firstIndex(of: "victim")! <= 1, "\(dispatched)")
    }

    @Test func aFullQueueAndANonQueuingLevelReject() async throws {
        let flow = Self.controller(shares: 1, queues: 1, handSize: 1, queueLength: 1, waitLimit: .milliseconds(200))
        guard case .admitted(let running, _) = await flow.admit(Self.user("a"), seats: 1) else { Issue.record("not admitted"); return }
        async let waiting = flow.admit(Self.user("a"), seats: 1)
        try await eventually("1 waiting", timeout: .seconds(5), every: .milliseconds(2)) { flow.state.withLock { $0.levels["tiny"]?.waiting } == 1 }
        guard case .rejected(_, let reason) = await flow.admit(Self.user("b"), seats: 1) else { Issue.record("admitted"); return }
        #expect(reason == "queue-full")
        flow.finish(running)
        if case .admitted(let t, _) = await waiting { flow.finish(t) } else { Issue.record("the queued request was not dispatched") }

        let rejecting = Self.controller(shares: 1, reject: true)
        guard case .admitted(let busy, _) = await rejecting.admit(Self.user("a"), seats: 1) else { Issue.record("not admitted"); return }
        guard case .rejected(_, let why) = await rejecting.admit(Self.user("b"), seats: 1) else { Issue.record("admitted"); return }
        #expect(why == "concurrency-limit")
        rejecting.finish(busy)
        #expect(rejecting.metricsText().contains(#"apiserver_flowcontrol_rejected_requests_total{flow_schema="test",priority_level="tiny",reason="concurrency-limit"} 1"#))
    }

    @Test func aRequestWaitingPastTheLimitTimesOut() async {
        let flow = Self.controller(shares: 1, waitLimit: .milliseconds(100))
        guard case .admitted(let running, _) = await flow.admit(Self.user("a"), seats: 1) else { Issue.record("not admitted"); return }
        guard case .rejected(_, let reason) = await flow.admit(Self.user("b"), seats: 1) else { Issue.record("admitted"); return }
        #expect(reason == "time-out")
        #expect(flow.state.withLock { $0.levels["tiny"]?.waiting } == 0)
        flow.finish(running)
        #expect(flow.state.withLock { $0.levels["tiny"]?.seatsInUse } == 0)
    }

    @Test func aCancelledWaiterLeavesItsQueue() async throws {
        let flow = Self.controller(shares: 1)
        guard case .admitted(let running, _) = await flow.admit(Self.user("a"), seats: 1) else { Issue.record("not admitted"); return }
        let waiter = Task { await flow.admit(Self.user("b"), seats: 1) }
        try await eventually("1 waiting", timeout: .seconds(5), every: .milliseconds(2)) { flow.state.withLock { $0.levels["tiny"]?.waiting } == 1 }
        waiter.cancel()
        guard case .rejected(_, let reason) = await waiter.value else { Issue.record("admitted"); return }
        #expect(reason == "cancelled")
        #expect(flow.state.withLock { s in s.levels["tiny"]!.waiting == 0 && s.pending.isEmpty && s.expiredEarly.isEmpty })
        flow.finish(running)
    }

    @Test func idleLendableSeatsAreBorrowed() async {
        // tiny: 1 seat, may borrow without limit; catch-all lends nothing, so only workload-like lenders help. With
        // a lending level added, tiny runs more than its own seat.
        let flow = FlowController(serverConcurrency: 12)
        let lender: JSONValue = ["metadata": ["name": "lender"], "spec": ["type": "Limited", "limited": [
            "nominalConcurrencyShares": 6, "lendablePercent": 100, "limitResponse": ["type": "Reject"]]]]
        let tiny: JSONValue = ["metadata": ["name": "tiny"], "spec": ["type": "Limited", "limited": [
            "nominalConcurrencyShares": 1, "limitResponse": ["type": "Reject"]]]]
        let schema: JSONValue = ["metadata": ["name": "test"], "spec": [
            "priorityLevelConfiguration": ["name": "tiny"], "matchingPrecedence": 100,
            "rules": [["subjects": [["kind": "Group", "group": ["name": "system:serviceaccounts"]]],
                       "resourceRules": [["verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true]]]],
        ]]
        flow.configure(flowSchemas: [schema], priorityLevels: [lender, tiny])
        // 12 seats over 12 shares (lender 6, tiny 1, catch-all 5): tiny 1, lender 6 all lendable.
        var tickets: [FlowTicket] = []
        for _ in 0..<7 {
            guard case .admitted(let t, _) = await flow.admit(Self.user("a"), seats: 1) else { Issue.record("not admitted"); return }
            tickets.append(t)
        }
        guard case .rejected = await flow.admit(Self.user("a"), seats: 1) else { Issue.record("borrowed past the lendable seats"); return }
        for t in tickets { flow.finish(t) }
        #expect(flow.state.withLock { $0.levels.values.allSatisfy { $0.seatsInUse == 0 } })
    }

    final class Recorder: Sendable {
        let names = Mutex<[String]>([])
    }

}
