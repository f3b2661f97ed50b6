public import TugAPIMachinery

/// core/v1 kinds other than Pod.
public enum CoreSchemas {
    static let open = TypeSchema.anyObject
    static let top = MetaSchemas.top

    public static let objectReference = TypeSchema("io.k8s.api.core.v1.ObjectReference", [
        F("kind", .string, 1), F("namespace", .string, 2), F("name", .string, 3), F("uid", .string, 4), F("apiVersion", .string, 5),
        F("resourceVersion", .string, 6), F("fieldPath", .string, 7),
    ])

    static let servicePort = TypeSchema("io.k8s.api.core.v1.ServicePort", [
        F("name", .string, 1), F("protocol", .string, 2), F("port", .int32, 3), F("targetPort", .intOrString, 4), F("nodePort", .int32, 5),
        F("appProtocol", .string, 6, pointer: true),
    ])
    static let serviceSpec = TypeSchema("io.k8s.api.core.v1.ServiceSpec", [
        F("ports", .array(.object(servicePort)), 1, patch: .mergeByKey("port")), F("selector", .map(.string), 2),
        F("clusterIP", .string, 3), F("type", .string, 4), F("externalIPs", .array(.string), 5), F("sessionAffinity", .string, 7),
        F("loadBalancerIP", .string, 8), F("loadBalancerSourceRanges", .array(.string), 9), F("externalName", .string, 10),
        F("externalTrafficPolicy", .string, 11), F("healthCheckNodePort", .int32, 12), F("publishNotReadyAddresses", .bool, 13),
        F("sessionAffinityConfig", .object(open), 14), F("ipFamilies", .array(.string), 17), F("clusterIPs", .array(.string), 18),
        F("ipFamilyPolicy", .string, 19, pointer: true), F("allocateLoadBalancerNodePorts", .bool, 20, pointer: true),
        F("loadBalancerClass", .string, 21, pointer: true), F("internalTrafficPolicy", .string, 22, pointer: true),
        F("trafficDistribution", .string, 23, pointer: true),
    ])
    static let loadBalancerIngress = TypeSchema("io.k8s.api.core.v1.LoadBalancerIngress", open: true, [
        F("ip", .string, 1), F("hostname", .string, 2), F("ipMode", .string, 3, pointer: true), F("ports", .array(.object(open)), 4),
    ])
    static let loadBalancerStatus = TypeSchema("io.k8s.api.core.v1.LoadBalancerStatus", [F("ingress", .array(.object(loadBalancerIngress)), 1)])
    public static let service = TypeSchema("io.k8s.api.core.v1.Service",
        description: "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.",
        top([
            F("spec", .object(serviceSpec), 2),
            F("status", .object(TypeSchema("io.k8s.api.core.v1.ServiceStatus", [
                F("loadBalancer", .object(loadBalancerStatus), 1),
                F("conditions", .array(.object(MetaSchemas.condition)), 2, patch: .mergeByKey("type")),
            ])), 3),
        ]))

    public static let configMap = TypeSchema("io.k8s.api.core.v1.ConfigMap",
        description: "ConfigMap holds configuration data for pods to consume.",
        top([F("data", .map(.string), 2), F("binaryData", .map(.bytes), 3), F("immutable", .bool, 4, pointer: true)]))

    public static let secret = TypeSchema("io.k8s.api.core.v1.Secret",
        description: "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
        top([F("data", .map(.bytes), 2), F("type", .string, 3), F("stringData", .map(.string), 4), F("immutable", .bool, 5, pointer: true)]))

    public static let namespace = TypeSchema("io.k8s.api.core.v1.Namespace",
        description: "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
        top([
            F("spec", .object(TypeSchema("io.k8s.api.core.v1.NamespaceSpec", [F("finalizers", .array(.string), 1)])), 2),
            F("status", .object(TypeSchema("io.k8s.api.core.v1.NamespaceStatus", [
                F("phase", .string, 1),
                F("conditions", .array(.object(MetaSchemas.conditionSchema("io.k8s.api.core.v1.NamespaceCondition", probeTimes: true))), 2, patch: .mergeByKey("type")),
            ])), 3),
        ]))

    public static let serviceAccount = TypeSchema("io.k8s.api.core.v1.ServiceAccount",
        description: "ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.",
        top([
            F("secrets", .array(.object(objectReference)), 2, patch: .mergeByKey("name")),
            F("imagePullSecrets", .array(.object(PodSchemas.localObjectReference)), 3),
            F("automountServiceAccountToken", .bool, 4, pointer: true),
        ]))

    static let taint = TypeSchema("io.k8s.api.core.v1.Taint", [F("key", .string, 1), F("value", .string, 2), F("effect", .string, 3), F("timeAdded", .time, 4)])
    static let nodeSpec = TypeSchema("io.k8s.api.core.v1.NodeSpec", [
        F("podCIDR", .string, 1), F("providerID", .string, 3), F("unschedulable", .bool, 4), F("taints", .array(.object(taint)), 5),
        F("configSource", .object(open), 6), F("externalID", .string, 2), F("podCIDRs", .array(.string), 7, patch: .mergeSet),
    ])
    static let nodeSystemInfo = TypeSchema("io.k8s.api.core.v1.NodeSystemInfo", open: true, [
        F("machineID", .string, 1), F("systemUUID", .string, 2), F("bootID", .string, 3), F("kernelVersion", .string, 4),
        F("osImage", .string, 5), F("containerRuntimeVersion", .string, 6), F("kubeletVersion", .string, 7), F("kubeProxyVersion", .string, 8),
        F("operatingSystem", .string, 9), F("architecture", .string, 10),
    ])
    static let nodeStatus = TypeSchema("io.k8s.api.core.v1.NodeStatus", open: true, [
        F("capacity", .map(.quantity), 1), F("allocatable", .map(.quantity), 2), F("phase", .string, 3),
        F("conditions", .array(.object(TypeSchema("io.k8s.api.core.v1.NodeCondition", [
            F("type", .string, 1), F("status", .string, 2), F("lastHeartbeatTime", .time, 3), F("lastTransitionTime", .time, 4),
            F("reason", .string, 5), F("message", .string, 6),
        ]))), 4, patch: .mergeByKey("type")),
        F("addresses", .array(.object(TypeSchema("io.k8s.api.core.v1.NodeAddress", [F("type", .string, 1), F("address", .string, 2)]))), 5, patch: .mergeByKey("type")),
        F("daemonEndpoints", .object(open), 6), F("nodeInfo", .object(nodeSystemInfo), 7), F("images", .array(.object(open)), 8),
        F("volumesInUse", .array(.string), 9), F("volumesAttached", .array(.object(open)), 10), F("config", .object(open), 11),
        F("runtimeHandlers", .array(.object(open)), 12), F("features", .object(open), 13),
    ])
    public static let node = TypeSchema("io.k8s.api.core.v1.Node",
        description: "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
        top([F("spec", .object(nodeSpec), 2), F("status", .object(nodeStatus), 3)]))

    static let eventSource = TypeSchema("io.k8s.api.core.v1.EventSource", [F("component", .string, 1), F("host", .string, 2)])
    public static let event = TypeSchema("io.k8s.api.core.v1.Event",
        description: "Event is a report of an event somewhere in the cluster.",
        top([
            F("involvedObject", .object(objectReference), 2), F("reason", .string, 3), F("message", .string, 4),
            F("source", .object(eventSource), 5), F("firstTimestamp", .time, 6), F("lastTimestamp", .time, 7), F("count", .int32, 8),
            F("type", .string, 9), F("eventTime", .microTime, 10),
            F("series", .object(TypeSchema("io.k8s.api.core.v1.EventSeries", [F("count", .int32, 1), F("lastObservedTime", .microTime, 2)])), 11),
            F("action", .string, 12), F("related", .object(objectReference), 13), F("reportingComponent", .string, 14),
            F("reportingInstance", .string, 15),
        ]))

    static let pvcSpec = TypeSchema("io.k8s.api.core.v1.PersistentVolumeClaimSpec", [
        F("accessModes", .array(.string), 1), F("resources", .object(TypeSchema("io.k8s.api.core.v1.VolumeResourceRequirements", [
            F("limits", .map(.quantity), 1), F("requests", .map(.quantity), 2),
        ])), 2),
        F("volumeName", .string, 3), F("selector", .object(MetaSchemas.labelSelector), 4), F("storageClassName", .string, 5, pointer: true),
        F("volumeMode", .string, 6, pointer: true), F("dataSource", .object(open), 7), F("dataSourceRef", .object(open), 8),
        F("volumeAttributesClassName", .string, 9, pointer: true),
    ])
    public static let persistentVolumeClaim = TypeSchema("io.k8s.api.core.v1.PersistentVolumeClaim",
        description: "PersistentVolumeClaim is a user's request for and claim to a persistent volume.",
        top([
            F("spec", .object(pvcSpec), 2),
            F("status", .object(TypeSchema("io.k8s.api.core.v1.PersistentVolumeClaimStatus", open: true, [
                F("phase", .string, 1), F("accessModes", .array(.string), 2), F("capacity", .map(.quantity), 3),
                F("conditions", .array(.object(open)), 4, patch: .mergeByKey("type")),
            ])), 3),
        ]))

    static let endpointAddress = TypeSchema("io.k8s.api.core.v1.EndpointAddress", [
        F("ip", .string, 1), F("targetRef", .object(objectReference), 2), F("hostname", .string, 3), F("nodeName", .string, 4, pointer: true),
    ])
    static let endpointPort = TypeSchema("io.k8s.api.core.v1.EndpointPort", [
        F("port", .int32, 2), F("protocol", .string, 3), F("name", .string, 1), F("appProtocol", .string, 4, pointer: true),
    ])
    public static let endpoints = TypeSchema("io.k8s.api.core.v1.Endpoints",
        description: "Endpoints is a collection of endpoints that implement the actual service.",
        top([
            F("subsets", .array(.object(TypeSchema("io.k8s.api.core.v1.EndpointSubset", [
                F("addresses", .array(.object(endpointAddress)), 1), F("notReadyAddresses", .array(.object(endpointAddress)), 2),
                F("ports", .array(.object(endpointPort)), 3),
            ]))), 2),
        ]))
}
