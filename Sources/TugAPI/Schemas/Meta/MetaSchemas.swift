public import TugAPIMachinery

typealias F = Field

/// io.k8s.apimachinery.pkg.apis.meta.v1 types shared by every kind.
public enum MetaSchemas {
    public static let ownerReference = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", [
        F("apiVersion", .string, 5), F("kind", .string, 1), F("name", .string, 3), F("uid", .string, 4),
        F("controller", .bool, 6, pointer: true), F("blockOwnerDeletion", .bool, 7, pointer: true),
    ])

    public static let managedFieldsEntry = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", [
        F("manager", .string, 1), F("operation", .string, 2), F("apiVersion", .string, 3), F("time", .time, 4),
        F("fieldsType", .string, 6), F("fieldsV1", .any, 7), F("subresource", .string, 8),
    ])

    public static let objectMeta = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        description: "Standard object's metadata.", [
        F("name", .string, 1), F("generateName", .string, 2), F("namespace", .string, 3), F("selfLink", .string, 4),
        F("uid", .string, 5), F("resourceVersion", .string, 6), F("generation", .int64, 7),
        F("creationTimestamp", .time, 8), F("deletionTimestamp", .time, 9), F("deletionGracePeriodSeconds", .int64, 10, pointer: true),
        F("labels", .map(.string), 11), F("annotations", .map(.string), 12),
        F("ownerReferences", .array(.object(ownerReference)), 13, patch: .mergeByKey("uid")),
        F("finalizers", .array(.string), 14, patch: .mergeSet),
        F("managedFields", .array(.object(managedFieldsEntry)), 17),
    ])

    public static let listMeta = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", [
        F("selfLink", .string, 1), F("resourceVersion", .string, 2), F("continue", .string, 3), F("remainingItemCount", .int64, 4, pointer: true),
    ])

    public static let labelSelectorRequirement = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", [
        F("key", .string, 1), F("operator", .string, 2), F("values", .array(.string), 3),
    ])

    public static let labelSelector = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", [
        F("matchLabels", .map(.string), 1), F("matchExpressions", .array(.object(labelSelectorRequirement)), 2),
    ])

    public static let condition = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.Condition", [
        F("type", .string, 1), F("status", .string, 2), F("observedGeneration", .int64, 3), F("lastTransitionTime", .time, 4),
        F("reason", .string, 5), F("message", .string, 6),
    ])

    public static let preconditions = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions", [
        F("uid", .string, 1), F("resourceVersion", .string, 2),
    ])

    public static let deleteOptions = TypeSchema("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", [
        F("kind", .string), F("apiVersion", .string),
        F("gracePeriodSeconds", .int64, 1, pointer: true), F("preconditions", .object(preconditions), 2),
        F("orphanDependents", .bool, 3, pointer: true), F("propagationPolicy", .string, 4), F("dryRun", .array(.string), 5),
        F("ignoreStoreReadErrorWithClusterBreakingPotential", .bool, 6, pointer: true),
    ])

    /// A status condition with the fields every apps/batch/core condition shares (merge key `type`).
    static func conditionSchema(_ name: String, probeTimes: Bool = false, updateTime: Bool = false) -> TypeSchema {
        var fields = [F("type", .string, 1), F("status", .string, 2), F("reason", .string, 5), F("message", .string, 6)]
        if updateTime { fields += [F("lastUpdateTime", .time, 6), F("lastTransitionTime", .time, 7)] }
        if probeTimes { fields += [F("lastProbeTime", .time, 3), F("lastTransitionTime", .time, 4)] }
        return TypeSchema(name, fields)
    }

    /// `kind` and `apiVersion` plus `metadata`: the top of every object schema.
    static func top(_ extra: [Field]) -> [Field] {
        [F("kind", .string), F("apiVersion", .string), F("metadata", .object(objectMeta), 1)] + extra
    }
}
