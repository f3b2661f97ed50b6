import TugAPIMachinery

/// The rbac.authorization.k8s.io/v1 kinds, registered in `Scheme.builtIn`.
enum RBACDefinitions {
    static let group = "rbac.authorization.k8s.io"

    static let all: [ResourceDefinition] = [
        ResourceDefinition(group: group, version: "v1", kind: "ClusterRole", resource: "clusterroles", namespaced: false,
                           schema: RBACSchemas.clusterRole, strategy: RoleStrategy(namespaced: false)),
        ResourceDefinition(group: group, version: "v1", kind: "ClusterRoleBinding", resource: "clusterrolebindings", namespaced: false,
                           schema: RBACSchemas.clusterRoleBinding, strategy: RoleBindingStrategy(namespaced: false)),
        ResourceDefinition(group: group, version: "v1", kind: "Role", resource: "roles", namespaced: true,
                           schema: RBACSchemas.role, strategy: RoleStrategy(namespaced: true)),
        ResourceDefinition(group: group, version: "v1", kind: "RoleBinding", resource: "rolebindings", namespaced: true,
                           schema: RBACSchemas.roleBinding, strategy: RoleBindingStrategy(namespaced: true)),
    ]
}
