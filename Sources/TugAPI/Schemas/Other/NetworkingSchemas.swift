public import TugAPIMachinery

/// networking.k8s.io/v1 Ingress and IngressClass.
public enum NetworkingSchemas {
    static let open = TypeSchema.anyObject
    static let top = MetaSchemas.top

    static let serviceBackendPort = TypeSchema("io.k8s.api.networking.v1.ServiceBackendPort", [F("name", .string, 1), F("number", .int32, 2)])
    static let ingressBackend = TypeSchema("io.k8s.api.networking.v1.IngressBackend", [
        F("service", .object(TypeSchema("io.k8s.api.networking.v1.IngressServiceBackend", [
            F("name", .string, 1), F("port", .object(serviceBackendPort), 2),
        ])), 4),
        F("resource", .object(open), 3),
    ])
    static let httpPath = TypeSchema("io.k8s.api.networking.v1.HTTPIngressPath", [
        F("path", .string, 1), F("pathType", .string, 3, pointer: true), F("backend", .object(ingressBackend), 2),
    ])
    static let ingressRule = TypeSchema("io.k8s.api.networking.v1.IngressRule", [
        F("host", .string, 1),
        F("http", .object(TypeSchema("io.k8s.api.networking.v1.HTTPIngressRuleValue", [F("paths", .array(.object(httpPath)), 1)]))),
    ])
    public static let ingress = TypeSchema("io.k8s.api.networking.v1.Ingress",
        description: "Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend.",
        top([
            F("spec", .object(TypeSchema("io.k8s.api.networking.v1.IngressSpec", [
                F("ingressClassName", .string, 4, pointer: true), F("defaultBackend", .object(ingressBackend), 1),
                F("tls", .array(.object(TypeSchema("io.k8s.api.networking.v1.IngressTLS", [F("hosts", .array(.string), 1), F("secretName", .string, 2)]))), 2),
                F("rules", .array(.object(ingressRule)), 3),
            ])), 2),
            F("status", .object(TypeSchema("io.k8s.api.networking.v1.IngressStatus", open: true, [
                F("loadBalancer", .object(open), 1),
            ])), 3),
        ]))

    public static let ingressClass = TypeSchema("io.k8s.api.networking.v1.IngressClass",
        description: "IngressClass represents the class of the Ingress, referenced by the Ingress Spec.",
        top([
            F("spec", .object(TypeSchema("io.k8s.api.networking.v1.IngressClassSpec", [
                F("controller", .string, 1), F("parameters", .object(open), 2),
            ])), 2),
        ]))
}
