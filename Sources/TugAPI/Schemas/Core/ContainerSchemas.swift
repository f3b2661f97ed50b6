public import TugAPIMachinery

/// core/v1 Container and the types it is made of.
public enum ContainerSchemas {
    static let open = TypeSchema.anyObject

    public static let containerPort = TypeSchema("io.k8s.api.core.v1.ContainerPort", [
        F("name", .string, 1), F("hostPort", .int32, 2), F("containerPort", .int32, 3), F("protocol", .string, 4), F("hostIP", .string, 5),
    ])

    static let keySelector = TypeSchema("io.k8s.api.core.v1.KeySelector", [
        F("name", .string, 1), F("key", .string, 2), F("optional", .bool, 3, pointer: true),
    ])
    static let fieldSelector = TypeSchema("io.k8s.api.core.v1.ObjectFieldSelector", [F("apiVersion", .string, 1), F("fieldPath", .string, 2)])
    static let resourceFieldSelector = TypeSchema("io.k8s.api.core.v1.ResourceFieldSelector", [
        F("containerName", .string, 1), F("resource", .string, 2), F("divisor", .quantity, 3),
    ])
    public static let envVarSource = TypeSchema("io.k8s.api.core.v1.EnvVarSource", [
        F("fieldRef", .object(fieldSelector), 1), F("resourceFieldRef", .object(resourceFieldSelector), 2),
        F("configMapKeyRef", .object(keySelector), 3), F("secretKeyRef", .object(keySelector), 4),
    ])
    public static let envVar = TypeSchema("io.k8s.api.core.v1.EnvVar", [
        F("name", .string, 1), F("value", .string, 2), F("valueFrom", .object(envVarSource), 3),
    ])
    static let sourceRef = TypeSchema("io.k8s.api.core.v1.ConfigMapEnvSource", [F("name", .string, 1), F("optional", .bool, 2, pointer: true)])
    public static let envFromSource = TypeSchema("io.k8s.api.core.v1.EnvFromSource", [
        F("prefix", .string, 1), F("configMapRef", .object(sourceRef), 2), F("secretRef", .object(sourceRef), 3),
    ])

    public static let resourceRequirements = TypeSchema("io.k8s.api.core.v1.ResourceRequirements", [
        F("limits", .map(.quantity), 1), F("requests", .map(.quantity), 2),
        F("claims", .array(.object(TypeSchema("io.k8s.api.core.v1.ResourceClaim", [F("name", .string, 1), F("request", .string, 2)]))), 3, patch: .mergeByKey("name")),
    ])

    public static let volumeMount = TypeSchema("io.k8s.api.core.v1.VolumeMount", [
        F("name", .string, 1), F("readOnly", .bool, 2), F("mountPath", .string, 3), F("subPath", .string, 4),
        F("mountPropagation", .string, 5), F("subPathExpr", .string, 6), F("recursiveReadOnly", .string, 7),
    ])
    static let volumeDevice = TypeSchema("io.k8s.api.core.v1.VolumeDevice", [F("name", .string, 1), F("devicePath", .string, 2)])

    static let httpHeader = TypeSchema("io.k8s.api.core.v1.HTTPHeader", [F("name", .string, 1), F("value", .string, 2)])
    static let execAction = TypeSchema("io.k8s.api.core.v1.ExecAction", [F("command", .array(.string), 1)])
    static let httpGetAction = TypeSchema("io.k8s.api.core.v1.HTTPGetAction", [
        F("path", .string, 1), F("port", .intOrString, 2), F("host", .string, 3), F("scheme", .string, 4),
        F("httpHeaders", .array(.object(httpHeader)), 5),
    ])
    static let tcpSocketAction = TypeSchema("io.k8s.api.core.v1.TCPSocketAction", [F("port", .intOrString, 1), F("host", .string, 2)])
    static let grpcAction = TypeSchema("io.k8s.api.core.v1.GRPCAction", [F("port", .int32, 1), F("service", .string, 2, pointer: true)])

    public static let probe = TypeSchema("io.k8s.api.core.v1.Probe", [
        // The handler fields are an embedded ProbeHandler (field 1) in protobuf, which these tables do not model.
        F("exec", .object(execAction)), F("httpGet", .object(httpGetAction)), F("tcpSocket", .object(tcpSocketAction)),
        F("grpc", .object(grpcAction)),
        F("initialDelaySeconds", .int32, 2), F("timeoutSeconds", .int32, 3), F("periodSeconds", .int32, 4),
        F("successThreshold", .int32, 5), F("failureThreshold", .int32, 6), F("terminationGracePeriodSeconds", .int64, 7, pointer: true),
    ])

    static let lifecycleHandler = TypeSchema("io.k8s.api.core.v1.LifecycleHandler", [
        F("exec", .object(execAction), 1), F("httpGet", .object(httpGetAction), 2), F("tcpSocket", .object(tcpSocketAction), 3),
        F("sleep", .object(TypeSchema("io.k8s.api.core.v1.SleepAction", [F("seconds", .int64, 1)])), 4),
    ])
    public static let lifecycle = TypeSchema("io.k8s.api.core.v1.Lifecycle", [
        F("postStart", .object(lifecycleHandler), 1), F("preStop", .object(lifecycleHandler), 2), F("stopSignal", .string, 3),
    ])

    static let resizePolicy = TypeSchema("io.k8s.api.core.v1.ContainerResizePolicy", [F("resourceName", .string, 1), F("restartPolicy", .string, 2)])

    public static let securityContext = TypeSchema("io.k8s.api.core.v1.SecurityContext", open: true, [
        F("capabilities", .object(TypeSchema("io.k8s.api.core.v1.Capabilities", [F("add", .array(.string), 1), F("drop", .array(.string), 2)])), 1),
        F("privileged", .bool, 2, pointer: true), F("seLinuxOptions", .object(open), 3), F("runAsUser", .int64, 4, pointer: true),
        F("runAsNonRoot", .bool, 5, pointer: true), F("readOnlyRootFilesystem", .bool, 6, pointer: true),
        F("allowPrivilegeEscalation", .bool, 7, pointer: true), F("runAsGroup", .int64, 8, pointer: true), F("procMount", .string, 9),
        F("windowsOptions", .object(open), 10), F("seccompProfile", .object(open), 11), F("appArmorProfile", .object(open), 12),
    ])

    /// Container fields; the protobuf numbers are those of k8s.io/api core/v1 `Container`.
    static func containerFields() -> [Field] {
        [
            F("name", .string, 1), F("image", .string, 2), F("command", .array(.string), 3), F("args", .array(.string), 4),
            F("workingDir", .string, 5),
            F("ports", .array(.object(containerPort)), 6, patch: .mergeByKey("containerPort")),
            F("env", .array(.object(envVar)), 7, patch: .mergeByKey("name")),
            F("resources", .object(resourceRequirements), 8),
            F("volumeMounts", .array(.object(volumeMount)), 9, patch: .mergeByKey("mountPath")),
            F("livenessProbe", .object(probe), 10), F("readinessProbe", .object(probe), 11), F("lifecycle", .object(lifecycle), 12),
            F("terminationMessagePath", .string, 13), F("imagePullPolicy", .string, 14), F("securityContext", .object(securityContext), 15),
            F("stdin", .bool, 16), F("stdinOnce", .bool, 17), F("tty", .bool, 18),
            F("envFrom", .array(.object(envFromSource)), 19), F("terminationMessagePolicy", .string, 20),
            F("volumeDevices", .array(.object(volumeDevice)), 21, patch: .mergeByKey("devicePath")),
            F("startupProbe", .object(probe), 22), F("resizePolicy", .array(.object(resizePolicy)), 23), F("restartPolicy", .string, 24),
        ]
    }

    public static let container = TypeSchema("io.k8s.api.core.v1.Container",
        description: "A single application container that you want to run within a pod.", containerFields())

    /// In protobuf the container fields are an embedded message (field 1), so only JSON is supported here.
    public static let ephemeralContainer = TypeSchema("io.k8s.api.core.v1.EphemeralContainer",
        containerFields().map { var f = $0; f.proto = 0; return f } + [F("targetContainerName", .string)])
}
