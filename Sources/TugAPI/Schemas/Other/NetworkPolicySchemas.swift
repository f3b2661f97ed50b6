public import TugAPIMachinery

/// networking.k8s.io/v1 NetworkPolicy (field numbers are upstream's protobuf tags).
public enum NetworkPolicySchemas {
    static let selector = FieldType.object(MetaSchemas.labelSelector)

    static let port = TypeSchema("io.k8s.api.networking.v1.NetworkPolicyPort", [
        F("protocol", .string, 1, pointer: true), F("port", .intOrString, 2, pointer: true), F("endPort", .int32, 3, pointer: true),
    ])
    static let peer = TypeSchema("io.k8s.api.networking.v1.NetworkPolicyPeer", [
        F("podSelector", selector, 1), F("namespaceSelector", selector, 2),
        F("ipBlock", .object(TypeSchema("io.k8s.api.networking.v1.IPBlock", [F("cidr", .string, 1), F("except", .array(.string), 2)])), 3),
    ])

    public static let networkPolicy = TypeSchema("io.k8s.api.networking.v1.NetworkPolicy",
        description: "NetworkPolicy describes what network traffic is allowed for a set of Pods",
        MetaSchemas.top([
            F("spec", .object(TypeSchema("io.k8s.api.networking.v1.NetworkPolicySpec", [
                F("podSelector", selector, 1),
                F("ingress", .array(.object(TypeSchema("io.k8s.api.networking.v1.NetworkPolicyIngressRule", [
                    F("ports", .array(.object(port)), 1), F("from", .array(.object(peer)), 2),
                ]))), 2),
                F("egress", .array(.object(TypeSchema("io.k8s.api.networking.v1.NetworkPolicyEgressRule", [
                    F("ports", .array(.object(port)), 1), F("to", .array(.object(peer)), 2),
                ]))), 3),
                F("policyTypes", .array(.string), 4),
            ])), 2),
        ]))
}
