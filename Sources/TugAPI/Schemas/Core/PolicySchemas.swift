public import TugAPIMachinery

/// core/v1 LimitRange and ResourceQuota, with the field numbers of `k8s.io/api/core/v1/generated.proto`.
public enum PolicySchemas {
    static let prefix = "io.k8s.api.core.v1."

    public static let limitRange = TypeSchema(prefix + "LimitRange",
        description: "LimitRange sets resource usage limits for each kind of resource in a Namespace.",
        MetaSchemas.top([
            F("spec", .object(TypeSchema(prefix + "LimitRangeSpec", [
                F("limits", .array(.object(TypeSchema(prefix + "LimitRangeItem", [
                    F("type", .string, 1), F("max", .map(.quantity), 2), F("min", .map(.quantity), 3), F("default", .map(.quantity), 4),
                    F("defaultRequest", .map(.quantity), 5), F("maxLimitRequestRatio", .map(.quantity), 6),
                ]))), 1),
            ])), 2),
        ]))

    static let scopedResourceSelectorRequirement = TypeSchema(prefix + "ScopedResourceSelectorRequirement", [
        F("scopeName", .string, 1), F("operator", .string, 2), F("values", .array(.string), 3),
    ])

    public static let resourceQuota = TypeSchema(prefix + "ResourceQuota",
        description: "ResourceQuota sets aggregate quota restrictions enforced per namespace",
        MetaSchemas.top([
            F("spec", .object(TypeSchema(prefix + "ResourceQuotaSpec", [
                F("hard", .map(.quantity), 1), F("scopes", .array(.string), 2),
                F("scopeSelector", .object(TypeSchema(prefix + "ScopeSelector", [
                    F("matchExpressions", .array(.object(scopedResourceSelectorRequirement)), 1),
                ])), 3, pointer: true),
            ])), 2),
            F("status", .object(TypeSchema(prefix + "ResourceQuotaStatus", [F("hard", .map(.quantity), 1), F("used", .map(.quantity), 2)])), 3),
        ]))
}
