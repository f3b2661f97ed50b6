public import TugAPIMachinery

/// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and ClusterRoleBinding, with the protobuf field
/// numbers of `k8s.io/api/rbac/v1/generated.proto`.
public enum RBACSchemas {
    static let prefix = "io.k8s.api.rbac.v1."

    static let policyRule = TypeSchema(prefix + "PolicyRule", [
        F("verbs", .array(.string), 1), F("apiGroups", .array(.string), 2), F("resources", .array(.string), 3),
        F("resourceNames", .array(.string), 4), F("nonResourceURLs", .array(.string), 5),
    ])

    static let subject = TypeSchema(prefix + "Subject", [
        F("kind", .string, 1), F("apiGroup", .string, 2), F("name", .string, 3), F("namespace", .string, 4),
    ])

    static let roleRef = TypeSchema(prefix + "RoleRef", [F("apiGroup", .string, 1), F("kind", .string, 2), F("name", .string, 3)])

    public static let role = TypeSchema(prefix + "Role",
        description: "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.",
        MetaSchemas.top([F("rules", .array(.object(policyRule)), 2)]))

    public static let clusterRole = TypeSchema(prefix + "ClusterRole",
        description: "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
        MetaSchemas.top([
            F("rules", .array(.object(policyRule)), 2),
            F("aggregationRule", .object(TypeSchema(prefix + "AggregationRule", [
                F("clusterRoleSelectors", .array(.object(MetaSchemas.labelSelector)), 1),
            ])), 3, pointer: true),
        ]))

    public static let roleBinding = TypeSchema(prefix + "RoleBinding",
        description: "RoleBinding references a role, but does not contain it.  It can reference a Role in the same namespace or a ClusterRole in the global namespace. It adds who information via Subjects and namespace information by which namespace it exists in.  RoleBindings in a given namespace only have effect in that namespace.",
        MetaSchemas.top([F("subjects", .array(.object(subject)), 2), F("roleRef", .object(roleRef), 3)]))

    public static let clusterRoleBinding = TypeSchema(prefix + "ClusterRoleBinding",
        description: "ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.",
        MetaSchemas.top([F("subjects", .array(.object(subject)), 2), F("roleRef", .object(roleRef), 3)]))
}
