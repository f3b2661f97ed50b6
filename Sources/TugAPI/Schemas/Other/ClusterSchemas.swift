public import TugAPIMachinery

/// coordination.k8s.io Lease, discovery.k8s.io EndpointSlice, events.k8s.io Event.
public enum ClusterSchemas {
    static let open = TypeSchema.anyObject
    static let top = MetaSchemas.top

    public static let lease = TypeSchema("io.k8s.api.coordination.v1.Lease",
        description: "Lease defines a lease concept.",
        top([
            F("spec", .object(TypeSchema("io.k8s.api.coordination.v1.LeaseSpec", [
                F("holderIdentity", .string, 1, pointer: true), F("leaseDurationSeconds", .int32, 2, pointer: true),
                F("acquireTime", .microTime, 3), F("renewTime", .microTime, 4), F("leaseTransitions", .int32, 5, pointer: true),
                F("strategy", .string, 6, pointer: true), F("preferredHolder", .string, 7, pointer: true),
            ])), 2),
        ]))

    static let endpoint = TypeSchema("io.k8s.api.discovery.v1.Endpoint", [
        F("addresses", .array(.string), 1),
        F("conditions", .object(TypeSchema("io.k8s.api.discovery.v1.EndpointConditions", [
            F("ready", .bool, 1, pointer: true), F("serving", .bool, 2, pointer: true), F("terminating", .bool, 3, pointer: true),
        ])), 2),
        F("hostname", .string, 3, pointer: true), F("targetRef", .object(CoreSchemas.objectReference), 4),
        F("deprecatedTopology", .map(.string), 5), F("nodeName", .string, 6, pointer: true), F("zone", .string, 7, pointer: true),
        F("hints", .object(open), 8),
    ])
    public static let endpointSlice = TypeSchema("io.k8s.api.discovery.v1.EndpointSlice",
        description: "EndpointSlice represents a subset of the endpoints that implement a service.",
        top([
            F("addressType", .string, 4), F("endpoints", .array(.object(endpoint)), 2),
            F("ports", .array(.object(TypeSchema("io.k8s.api.discovery.v1.EndpointPort", [
                F("name", .string, 1, pointer: true), F("protocol", .string, 2, pointer: true), F("port", .int32, 3, pointer: true),
                F("appProtocol", .string, 4, pointer: true),
            ]))), 3),
        ]))

    public static let eventsEvent = TypeSchema("io.k8s.api.events.v1.Event",
        description: "Event is a report of an event somewhere in the cluster.",
        top([
            F("eventTime", .microTime, 2),
            F("series", .object(TypeSchema("io.k8s.api.events.v1.EventSeries", [F("count", .int32, 1), F("lastObservedTime", .microTime, 2)])), 3),
            F("reportingController", .string, 4), F("reportingInstance", .string, 5), F("action", .string, 6), F("reason", .string, 7),
            F("regarding", .object(CoreSchemas.objectReference), 8), F("related", .object(CoreSchemas.objectReference), 9),
            F("note", .string, 10), F("type", .string, 11), F("deprecatedSource", .object(CoreSchemas.eventSource), 12),
            F("deprecatedFirstTimestamp", .time, 13), F("deprecatedLastTimestamp", .time, 14), F("deprecatedCount", .int32, 15),
        ]))

    static let resourceAttributes = TypeSchema("io.k8s.api.authorization.v1.ResourceAttributes", [
        F("namespace", .string, 1), F("verb", .string, 2), F("group", .string, 3), F("version", .string, 4), F("resource", .string, 5),
        F("subresource", .string, 6), F("name", .string, 7), F("fieldSelector", .object(open), 8), F("labelSelector", .object(open), 9),
    ])
    static let nonResourceAttributes = TypeSchema("io.k8s.api.authorization.v1.NonResourceAttributes", [F("path", .string, 1), F("verb", .string, 2)])
    static let subjectAccessReviewStatus = TypeSchema("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", [
        F("allowed", .bool, 1), F("reason", .string, 2), F("evaluationError", .string, 3), F("denied", .bool, 4),
    ])
    public static let selfSubjectAccessReview = TypeSchema("io.k8s.api.authorization.v1.SelfSubjectAccessReview", top([
        F("spec", .object(TypeSchema("io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec", [
            F("resourceAttributes", .object(resourceAttributes), 1, pointer: true),
            F("nonResourceAttributes", .object(nonResourceAttributes), 2, pointer: true),
        ])), 2),
        F("status", .object(subjectAccessReviewStatus), 3),
    ]))
    public static let selfSubjectRulesReview = TypeSchema("io.k8s.api.authorization.v1.SelfSubjectRulesReview", top([
        F("spec", .object(TypeSchema("io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec", [F("namespace", .string, 1)])), 2),
        F("status", .object(TypeSchema("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", [
            F("resourceRules", .array(.object(TypeSchema("io.k8s.api.authorization.v1.ResourceRule", [
                F("verbs", .array(.string), 1), F("apiGroups", .array(.string), 2), F("resources", .array(.string), 3),
                F("resourceNames", .array(.string), 4),
            ]))), 1),
            F("nonResourceRules", .array(.object(TypeSchema("io.k8s.api.authorization.v1.NonResourceRule", [
                F("verbs", .array(.string), 1), F("nonResourceURLs", .array(.string), 2),
            ]))), 2),
            F("incomplete", .bool, 3), F("evaluationError", .string, 4),
        ])), 3),
    ]))
    public static let tokenRequest = TypeSchema("io.k8s.api.authentication.v1.TokenRequest", top([
        F("spec", .object(TypeSchema("io.k8s.api.authentication.v1.TokenRequestSpec", [
            F("audiences", .array(.string), 1), F("expirationSeconds", .int64, 4, pointer: true),
            F("boundObjectRef", .object(TypeSchema("io.k8s.api.authentication.v1.BoundObjectReference", [
                F("kind", .string, 1), F("apiVersion", .string, 2), F("name", .string, 3), F("uid", .string, 4),
            ])), 3),
        ])), 2),
        F("status", .object(TypeSchema("io.k8s.api.authentication.v1.TokenRequestStatus", [
            F("token", .string, 1), F("expirationTimestamp", .time, 2),
        ])), 3),
    ]))
    static let userInfo = TypeSchema("io.k8s.api.authentication.v1.UserInfo", [
        // `extra` is map<string, ExtraValue{items}> in protobuf, which these tables do not model: JSON only.
        F("username", .string, 1), F("uid", .string, 2), F("groups", .array(.string), 3), F("extra", .map(.array(.string))),
    ])
    public static let selfSubjectReview = TypeSchema("io.k8s.api.authentication.v1.SelfSubjectReview", top([
        F("status", .object(TypeSchema("io.k8s.api.authentication.v1.SelfSubjectReviewStatus", [
            F("userInfo", .object(userInfo), 1),
        ])), 2),
    ]))
}
