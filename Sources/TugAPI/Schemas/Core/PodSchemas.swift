public import TugAPIMachinery

/// core/v1 Pod, PodSpec, PodTemplateSpec, volumes and pod status.
public enum PodSchemas {
    static let open = TypeSchema.anyObject
    typealias C = ContainerSchemas

    static let keyToPath = TypeSchema("io.k8s.api.core.v1.KeyToPath", [F("key", .string, 1), F("path", .string, 2), F("mode", .int32, 3, pointer: true)])

    /// Volume sources we name explicitly; others are accepted as-is (the schema preserves unknown fields).
    public static let volume = TypeSchema("io.k8s.api.core.v1.Volume", open: true, [
        F("name", .string, 1),
        F("hostPath", .object(TypeSchema("io.k8s.api.core.v1.HostPathVolumeSource", [F("path", .string, 1), F("type", .string, 2, pointer: true)]))),
        F("emptyDir", .object(TypeSchema("io.k8s.api.core.v1.EmptyDirVolumeSource", [F("medium", .string, 1), F("sizeLimit", .quantity, 2)]))),
        F("secret", .object(TypeSchema("io.k8s.api.core.v1.SecretVolumeSource", [
            F("secretName", .string, 1), F("items", .array(.object(keyToPath)), 2), F("defaultMode", .int32, 3, pointer: true), F("optional", .bool, 4, pointer: true),
        ]))),
        F("configMap", .object(TypeSchema("io.k8s.api.core.v1.ConfigMapVolumeSource", [
            F("name", .string), F("items", .array(.object(keyToPath)), 2), F("defaultMode", .int32, 3, pointer: true), F("optional", .bool, 4, pointer: true),
        ]))),
        F("persistentVolumeClaim", .object(TypeSchema("io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource", [F("claimName", .string, 1), F("readOnly", .bool, 2)]))),
        F("projected", .object(open)), F("downwardAPI", .object(open)), F("nfs", .object(open)), F("csi", .object(open)), F("ephemeral", .object(open)),
    ])

    static let toleration = TypeSchema("io.k8s.api.core.v1.Toleration", [
        F("key", .string, 1), F("operator", .string, 2), F("value", .string, 3), F("effect", .string, 4), F("tolerationSeconds", .int64, 5, pointer: true),
    ])
    static let hostAlias = TypeSchema("io.k8s.api.core.v1.HostAlias", [F("ip", .string, 1), F("hostnames", .array(.string), 2)])
    static let localObjectReference = TypeSchema("io.k8s.api.core.v1.LocalObjectReference", [F("name", .string, 1)])
    static let podDNSConfig = TypeSchema("io.k8s.api.core.v1.PodDNSConfig", [
        F("nameservers", .array(.string), 1), F("searches", .array(.string), 2),
        F("options", .array(.object(TypeSchema("io.k8s.api.core.v1.PodDNSConfigOption", [F("name", .string, 1), F("value", .string, 2, pointer: true)]))), 3),
    ])
    static let topologySpreadConstraint = TypeSchema("io.k8s.api.core.v1.TopologySpreadConstraint", [
        F("maxSkew", .int32, 1), F("topologyKey", .string, 2), F("whenUnsatisfiable", .string, 3), F("labelSelector", .object(MetaSchemas.labelSelector), 4),
        F("minDomains", .int32, 5, pointer: true), F("nodeAffinityPolicy", .string, 6), F("nodeTaintsPolicy", .string, 7), F("matchLabelKeys", .array(.string), 8),
    ])

    public static let podSpec = TypeSchema("io.k8s.api.core.v1.PodSpec",
        description: "PodSpec is a description of a pod.", [
        F("volumes", .array(.object(volume)), 1, patch: .mergeByKeyRetainKeys("name")),
        F("containers", .array(.object(C.container)), 2, patch: .mergeByKey("name")),
        F("restartPolicy", .string, 3), F("terminationGracePeriodSeconds", .int64, 4, pointer: true),
        F("activeDeadlineSeconds", .int64, 5, pointer: true), F("dnsPolicy", .string, 6), F("nodeSelector", .map(.string), 7),
        F("serviceAccountName", .string, 8), F("serviceAccount", .string, 9), F("nodeName", .string, 10),
        F("hostNetwork", .bool, 11), F("hostPID", .bool, 12), F("hostIPC", .bool, 13),
        F("securityContext", .object(TypeSchema("io.k8s.api.core.v1.PodSecurityContext", open: true, [])), 14),
        F("imagePullSecrets", .array(.object(localObjectReference)), 15, patch: .mergeByKey("name")),
        F("hostname", .string, 16), F("subdomain", .string, 17), F("affinity", .object(open), 18), F("schedulerName", .string, 19),
        F("initContainers", .array(.object(C.container)), 20, patch: .mergeByKey("name")),
        F("automountServiceAccountToken", .bool, 21, pointer: true), F("tolerations", .array(.object(toleration)), 22),
        F("hostAliases", .array(.object(hostAlias)), 23, patch: .mergeByKey("ip")), F("priorityClassName", .string, 24),
        F("priority", .int32, 25, pointer: true), F("dnsConfig", .object(podDNSConfig), 26), F("shareProcessNamespace", .bool, 27, pointer: true),
        F("readinessGates", .array(.object(TypeSchema("io.k8s.api.core.v1.PodReadinessGate", [F("conditionType", .string, 1)]))), 28),
        F("runtimeClassName", .string, 29, pointer: true), F("enableServiceLinks", .bool, 30, pointer: true), F("preemptionPolicy", .string, 31, pointer: true),
        F("overhead", .map(.quantity), 32), F("topologySpreadConstraints", .array(.object(topologySpreadConstraint)), 33, patch: .mergeByKey("topologyKey")),
        F("ephemeralContainers", .array(.object(C.ephemeralContainer)), 34, patch: .mergeByKey("name")),
        F("setHostnameAsFQDN", .bool, 35, pointer: true), F("os", .object(TypeSchema("io.k8s.api.core.v1.PodOS", [F("name", .string, 1)])), 36),
        F("hostUsers", .bool, 37, pointer: true),
        F("schedulingGates", .array(.object(TypeSchema("io.k8s.api.core.v1.PodSchedulingGate", [F("name", .string, 1)]))), 38, patch: .mergeByKey("name")),
        F("resourceClaims", .array(.object(open)), 39, patch: .mergeByKeyRetainKeys("name")),
        F("resources", .object(C.resourceRequirements), 40),
    ])

    public static let podTemplateSpec = TypeSchema("io.k8s.api.core.v1.PodTemplateSpec", [
        F("metadata", .object(MetaSchemas.objectMeta), 1), F("spec", .object(podSpec), 2),
    ])

    static let podIP = TypeSchema("io.k8s.api.core.v1.PodIP", [F("ip", .string, 1)])

    public static let containerStatus = TypeSchema("io.k8s.api.core.v1.ContainerStatus", open: true, [
        F("name", .string, 1), F("state", .object(open), 2), F("lastState", .object(open), 3), F("ready", .bool, 4),
        F("restartCount", .int32, 5), F("image", .string, 6), F("imageID", .string, 7), F("containerID", .string, 8),
        F("started", .bool, 9, pointer: true),
    ])

    public static let podStatus = TypeSchema("io.k8s.api.core.v1.PodStatus", open: true, [
        F("phase", .string, 1),
        F("conditions", .array(.object(MetaSchemas.conditionSchema("io.k8s.api.core.v1.PodCondition", probeTimes: true))), 2, patch: .mergeByKey("type")),
        F("message", .string, 3), F("reason", .string, 4), F("hostIP", .string, 5), F("podIP", .string, 6), F("startTime", .time, 7),
        F("containerStatuses", .array(.object(containerStatus)), 8), F("qosClass", .string, 9),
        F("initContainerStatuses", .array(.object(containerStatus)), 10), F("nominatedNodeName", .string, 11),
        F("podIPs", .array(.object(podIP)), 12, patch: .mergeByKey("ip")),
        F("ephemeralContainerStatuses", .array(.object(containerStatus)), 13),
        F("hostIPs", .array(.object(podIP)), 16, patch: .mergeByKey("ip")),
    ])

    public static let pod = TypeSchema("io.k8s.api.core.v1.Pod",
        description: "Pod is a collection of containers that can run on a host.",
        MetaSchemas.top([F("spec", .object(podSpec), 2), F("status", .object(podStatus), 3)]))

    public static let binding = TypeSchema("io.k8s.api.core.v1.Binding", MetaSchemas.top([
        F("target", .object(TypeSchema("io.k8s.api.core.v1.ObjectReference", open: true, [
            F("kind", .string, 1), F("namespace", .string, 2), F("name", .string, 3), F("uid", .string, 4), F("apiVersion", .string, 5),
        ])), 2),
    ]))
}
