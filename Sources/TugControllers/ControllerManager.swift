import Logging
public import ServiceLifecycle
public import TugClient
public import TugControllerRuntime

/// kube-controller-manager's role in `tug server`: the workload controllers, on the process's shared informer factory
/// (which the server starts before them, so in shutdown's reverse order it stops after them).
public enum ControllerManager {
    public static func services(client: RESTClient, informers: InformerFactory) -> [any Service] {
        func log(_ name: String) -> Logger { Logger(label: "tug.controller.\(name)") }
        return [
            ControllerRunner(ReplicaSetController(client: client, informers: informers, logger: log("replicaset")), workers: 5, logger: log("replicaset")),
            ControllerRunner(DeploymentController(client: client, informers: informers, logger: log("deployment")), workers: 5, logger: log("deployment")),
            ControllerRunner(StatefulSetController(client: client, informers: informers, logger: log("statefulset")), workers: 5, logger: log("statefulset")),
            ControllerRunner(DaemonSetController(client: client, informers: informers, logger: log("daemonset")), workers: 2, logger: log("daemonset")),
            ControllerRunner(JobController(client: client, informers: informers, logger: log("job")), workers: 5, logger: log("job")),
            ControllerRunner(CronJobController(client: client, informers: informers, logger: log("cronjob")), workers: 2, logger: log("cronjob")),
            ControllerRunner(EndpointsController(client: client, informers: informers, logger: log("endpoints")), workers: 5, logger: log("endpoints")),
            ControllerRunner(EndpointSliceController(client: client, informers: informers, logger: log("endpointslice")), workers: 5, logger: log("endpointslice")),
            ControllerRunner(ServiceLoadBalancerController(client: client, informers: informers, logger: log("servicelb")), workers: 2, logger: log("servicelb")),
            ControllerRunner(TaintEvictionController(client: client, informers: informers, logger: log("tainteviction")), workers: 2, logger: log("tainteviction")),
            GarbageCollector(client: client, informers: informers, logger: log("garbagecollector")),
        ]
    }
}
