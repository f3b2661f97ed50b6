import Foundation
public import Logging
public import ServiceLifecycle
import TugAPIMachinery
public import TugControllerRuntime
public import TugOS

/// The node's NetworkPolicy enforcement (the part of kube-router k3s embeds): watches NetworkPolicies, pods and
/// namespaces and keeps the node's filter rules for its own pods in step, one sync per burst of changes, by
/// delta as the proxy does. Rules stay when the agent stops (policies keep holding); `tug reset` removes them.
public final class NetworkPolicyEnforcer: Service, Sendable {
    let policies: Informer
    let pods: Informer
    let namespaces: Informer
    let rules: PolicyRules
    let applier: RuleSetApplier
    let logger: Logger
    let signal = ChangeSignal()

    public init(names: ChainNames, nodeName: String, informers: InformerFactory, runner: any CommandRunner, logger: Logger) {
        self.logger = logger
        rules = PolicyRules(names: names.policy, nodeName: nodeName)
        applier = RuleSetApplier(names: names.policy, iptables: IPTables(runner: runner))
        policies = informers.informer(.networkPolicies)
        pods = informers.informer(.pods)
        namespaces = informers.informer(.namespaces)
        signal.watch([policies, pods, namespaces])
    }

    public func run() async throws {
        await policies.waitForSync()
        await pods.waitForSync()
        await namespaces.waitForSync()
        await RuleSyncLoop.run(signal, applier: applier, what: "network policy", logger: logger) { [self] in
            rules.render(policies: policies.store.list(), pods: pods.store.list(), namespaces: namespaces.store.list())
        }
    }
}
