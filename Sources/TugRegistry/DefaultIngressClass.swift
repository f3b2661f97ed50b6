import TugAPI
import TugAPIMachinery
import TugAuth

/// The DefaultIngressClass admission plugin: a new Ingress without `ingressClassName` gets the class annotated
/// `ingressclass.kubernetes.io/is-default-class: "true"` (the newest, when several are), unless it still uses the
/// deprecated `kubernetes.io/ingress.class` annotation.
struct DefaultIngressClass: AdmissionPlugin {
    static let defaultAnnotation = "ingressclass.kubernetes.io/is-default-class"

    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?, user: UserInfo?) throws(StatusError) {
        guard old == nil, object["spec"]["ingressClassName"].stringValue == nil,
              object["metadata"]["annotations"]["kubernetes.io/ingress.class"].stringValue == nil,
              let classes = store.scheme.resource(group: "networking.k8s.io", version: "v1", resource: "ingressclasses") else { return }
        let defaults = store.backend.list(prefix: StorageKeys.prefix(classes, namespace: nil)).items
            .compactMap { try? store.decode($0) }
            .filter { $0["metadata"]["annotations"][Self.defaultAnnotation].stringValue == "true" }
            .sorted { ($0["metadata"]["creationTimestamp"].stringValue ?? "", $0.name) > ($1["metadata"]["creationTimestamp"].stringValue ?? "", $1.name) }
        if let chosen = defaults.first { object["spec"]["ingressClassName"] = .string(chosen.name) }
    }

    func release(_ object: JSONValue) {}
}
