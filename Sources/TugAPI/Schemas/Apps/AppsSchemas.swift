public import TugAPIMachinery

/// apps/v1 Deployment, ReplicaSet, StatefulSet and DaemonSet.
public enum AppsSchemas {
    static let open = TypeSchema.anyObject
    static let top = MetaSchemas.top
    static let template = PodSchemas.podTemplateSpec
    static let selector = MetaSchemas.labelSelector

    static func conditions(_ name: String) -> Field {
        F("conditions", .array(.object(TypeSchema("io.k8s.api.apps.v1.\(name)", [
            F("type", .string, 1), F("status", .string, 2), F("lastUpdateTime", .time, 6), F("lastTransitionTime", .time, 7),
            F("reason", .string, 4), F("message", .string, 5),
        ]))), patch: .mergeByKey("type"))
    }

    static func withProto(_ field: Field, _ number: Int) -> Field { var f = field; f.proto = number; return f }

    static let rollingUpdateDeployment = TypeSchema("io.k8s.api.apps.v1.RollingUpdateDeployment", [
        F("maxUnavailable", .intOrString, 1), F("maxSurge", .intOrString, 2),
    ])
    static let deploymentSpec = TypeSchema("io.k8s.api.apps.v1.DeploymentSpec", [
        F("replicas", .int32, 1, pointer: true), F("selector", .object(selector), 2), F("template", .object(template), 3),
        F("strategy", .object(TypeSchema("io.k8s.api.apps.v1.DeploymentStrategy", [
            F("type", .string, 1), F("rollingUpdate", .object(rollingUpdateDeployment), 2),
        ])), 4, patch: .retainKeys),
        F("minReadySeconds", .int32, 5), F("revisionHistoryLimit", .int32, 6, pointer: true), F("paused", .bool, 7),
        F("progressDeadlineSeconds", .int32, 9, pointer: true),
    ])
    static let deploymentStatus = TypeSchema("io.k8s.api.apps.v1.DeploymentStatus", [
        F("observedGeneration", .int64, 1), F("replicas", .int32, 2), F("updatedReplicas", .int32, 3), F("availableReplicas", .int32, 4),
        F("unavailableReplicas", .int32, 5), withProto(conditions("DeploymentCondition"), 6), F("readyReplicas", .int32, 7),
        F("collisionCount", .int32, 8, pointer: true), F("terminatingReplicas", .int32, 9, pointer: true),
    ])
    public static let deployment = TypeSchema("io.k8s.api.apps.v1.Deployment",
        description: "Deployment enables declarative updates for Pods and ReplicaSets.",
        top([F("spec", .object(deploymentSpec), 2), F("status", .object(deploymentStatus), 3)]))

    static let replicaSetSpec = TypeSchema("io.k8s.api.apps.v1.ReplicaSetSpec", [
        F("replicas", .int32, 1, pointer: true), F("selector", .object(selector), 2), F("template", .object(template), 3), F("minReadySeconds", .int32, 4),
    ])
    static let replicaSetStatus = TypeSchema("io.k8s.api.apps.v1.ReplicaSetStatus", [
        F("replicas", .int32, 1), F("fullyLabeledReplicas", .int32, 2), F("observedGeneration", .int64, 3), F("readyReplicas", .int32, 4),
        F("availableReplicas", .int32, 5), withProto(conditions("ReplicaSetCondition"), 6), F("terminatingReplicas", .int32, 7, pointer: true),
    ])
    public static let replicaSet = TypeSchema("io.k8s.api.apps.v1.ReplicaSet",
        description: "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
        top([F("spec", .object(replicaSetSpec), 2), F("status", .object(replicaSetStatus), 3)]))

    static let statefulSetSpec = TypeSchema("io.k8s.api.apps.v1.StatefulSetSpec", [
        F("replicas", .int32, 1, pointer: true), F("selector", .object(selector), 2), F("template", .object(template), 3),
        F("volumeClaimTemplates", .array(.object(CoreSchemas.persistentVolumeClaim)), 4), F("serviceName", .string, 5),
        F("podManagementPolicy", .string, 6), F("updateStrategy", .object(open), 7), F("revisionHistoryLimit", .int32, 8, pointer: true),
        F("minReadySeconds", .int32, 9), F("persistentVolumeClaimRetentionPolicy", .object(open), 10), F("ordinals", .object(open), 11),
    ])
    static let statefulSetStatus = TypeSchema("io.k8s.api.apps.v1.StatefulSetStatus", [
        F("observedGeneration", .int64, 1), F("replicas", .int32, 2), F("readyReplicas", .int32, 3), F("currentReplicas", .int32, 4),
        F("updatedReplicas", .int32, 5), F("currentRevision", .string, 6), F("updateRevision", .string, 7), F("collisionCount", .int32, 9, pointer: true),
        withProto(conditions("StatefulSetCondition"), 10), F("availableReplicas", .int32, 11),
    ])
    public static let statefulSet = TypeSchema("io.k8s.api.apps.v1.StatefulSet",
        description: "StatefulSet represents a set of pods with consistent identities.",
        top([F("spec", .object(statefulSetSpec), 2), F("status", .object(statefulSetStatus), 3)]))

    static let daemonSetSpec = TypeSchema("io.k8s.api.apps.v1.DaemonSetSpec", [
        F("selector", .object(selector), 1), F("template", .object(template), 2), F("updateStrategy", .object(open), 3),
        F("minReadySeconds", .int32, 4), F("revisionHistoryLimit", .int32, 6, pointer: true),
    ])
    static let daemonSetStatus = TypeSchema("io.k8s.api.apps.v1.DaemonSetStatus", [
        F("currentNumberScheduled", .int32, 1), F("numberMisscheduled", .int32, 2), F("desiredNumberScheduled", .int32, 3),
        F("numberReady", .int32, 4), F("observedGeneration", .int64, 5), F("updatedNumberScheduled", .int32, 6),
        F("numberAvailable", .int32, 7), F("numberUnavailable", .int32, 8), F("collisionCount", .int32, 9, pointer: true),
        withProto(conditions("DaemonSetCondition"), 10),
    ])
    public static let daemonSet = TypeSchema("io.k8s.api.apps.v1.DaemonSet",
        description: "DaemonSet represents the configuration of a daemon set.",
        top([F("spec", .object(daemonSetSpec), 2), F("status", .object(daemonSetStatus), 3)]))

    public static let controllerRevision = TypeSchema("io.k8s.api.apps.v1.ControllerRevision",
        description: "ControllerRevision implements an immutable snapshot of state data.",
        top([F("data", .object(open), 2), F("revision", .int64, 3)]))

    public static let scale = TypeSchema("io.k8s.api.autoscaling.v1.Scale", top([
        F("spec", .object(TypeSchema("io.k8s.api.autoscaling.v1.ScaleSpec", [F("replicas", .int32, 1)])), 2),
        F("status", .object(TypeSchema("io.k8s.api.autoscaling.v1.ScaleStatus", [F("replicas", .int32, 1), F("selector", .string, 2)])), 3),
    ]))
}
