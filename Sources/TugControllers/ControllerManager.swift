import Logging
public import ServiceLifecycle
public import TugClient
public import TugControllerRuntime
import TugAuth

/// kube-controller-manager's role in `tug server`: the workload controllers, on the process's shared informer factory
/// (which the server starts before them, so in shutdown's reverse order it stops after them).
public enum ControllerManager {
    /// The controllers, each calling the API with the client `client(name)` gives for its upstream service-account
    /// name (`replicaset-controller`, …), so each holds only its own role.
    public static func services(client: (String) -> RESTClient, informers: InformerFactory) -> [any Service] {
        func log(_ name: String) -> Logger { Logger(label: "tug.controller.\(name)") }
        typealias P = ControllerPolicy
        return [
            ControllerRunner(ReplicaSetController(client: client(P.replicaSet), informers: informers, logger: log("replicaset")), workers: 5, logger: log("replicaset")),
            ControllerRunner(DeploymentController(client: client(P.deployment), informers: informers, logger: log("deployment")), workers: 5, logger: log("deployment")),
            ControllerRunner(StatefulSetController(client: client(P.statefulSet), informers: informers, logger: log("statefulset")), workers: 5, logger: log("statefulset")),
            ControllerRunner(DaemonSetController(client: client(P.daemonSet), informers: informers, logger: log("daemonset")), workers: 2, logger: log("daemonset")),
            ControllerRunner(JobController(client: client(P.job), informers: informers, logger: log("job")), workers: 5, logger: log("job")),
            ControllerRunner(CronJobController(client: client(P.cronJob), informers: informers, logger: log("cronjob")), workers: 2, logger: log("cronjob")),
            ControllerRunner(EndpointsController(client: client(P.endpoints), informers: informers, logger: log("endpoints")), workers: 5, logger: log("endpoints")),
            ControllerRunner(EndpointSliceController(client: client(P.endpointSlice), informers: informers, logger: log("endpointslice")), workers: 5, logger: log("endpointslice")),
            ControllerRunner(ServiceLoadBalancerController(client: client(P.service), informers: informers, logger: log("servicelb")), workers: 2, logger: log("servicelb")),
            ControllerRunner(TaintEvictionController(client: client(P.taintEviction), informers: informers, logger: log("tainteviction")), workers: 2, logger: log("tainteviction")),
            GarbageCollector(client: client(P.garbageCollector), informers: informers, logger: log("garbagecollector")),
        ]
    }
}
