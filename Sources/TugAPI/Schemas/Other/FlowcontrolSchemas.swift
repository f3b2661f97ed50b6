public import TugAPIMachinery

/// flowcontrol.apiserver.k8s.io/v1 FlowSchema and PriorityLevelConfiguration (API Priority and Fairness), with the
/// protobuf field numbers of `k8s.io/api/flowcontrol/v1/generated.proto`.
public enum FlowcontrolSchemas {
    static let prefix = "io.k8s.api.flowcontrol.v1."

    static func condition(_ kind: String) -> TypeSchema {
        TypeSchema(prefix + kind + "Condition", [
            F("type", .string, 1), F("status", .string, 2), F("lastTransitionTime", .time, 3), F("reason", .string, 4), F("message", .string, 5),
        ])
    }

    static let subject = TypeSchema(prefix + "Subject", [
        F("kind", .string, 1),
        F("user", .object(TypeSchema(prefix + "UserSubject", [F("name", .string, 1)])), 2, pointer: true),
        F("group", .object(TypeSchema(prefix + "GroupSubject", [F("name", .string, 1)])), 3, pointer: true),
        F("serviceAccount", .object(TypeSchema(prefix + "ServiceAccountSubject", [F("namespace", .string, 1), F("name", .string, 2)])), 4, pointer: true),
    ])

    static let resourceRule = TypeSchema(prefix + "ResourcePolicyRule", [
        F("verbs", .array(.string), 1), F("apiGroups", .array(.string), 2), F("resources", .array(.string), 3),
        F("clusterScope", .bool, 4), F("namespaces", .array(.string), 5),
    ])

    static let nonResourceRule = TypeSchema(prefix + "NonResourcePolicyRule", [F("verbs", .array(.string), 1), F("nonResourceURLs", .array(.string), 6)])

    public static let flowSchema = TypeSchema(prefix + "FlowSchema",
        description: "FlowSchema defines the schema of a group of flows. Note that a flow is made up of a set of inbound API requests with similar attributes and is identified by a pair of strings: the name of the FlowSchema and a \"flow distinguisher\".",
        MetaSchemas.top([
            F("spec", .object(TypeSchema(prefix + "FlowSchemaSpec", [
                F("priorityLevelConfiguration", .object(TypeSchema(prefix + "PriorityLevelConfigurationReference", [F("name", .string, 1)])), 1),
                F("matchingPrecedence", .int32, 2),
                F("distinguisherMethod", .object(TypeSchema(prefix + "FlowDistinguisherMethod", [F("type", .string, 1)])), 3, pointer: true),
                F("rules", .array(.object(TypeSchema(prefix + "PolicyRulesWithSubjects", [
                    F("subjects", .array(.object(subject)), 1), F("resourceRules", .array(.object(resourceRule)), 2),
                    F("nonResourceRules", .array(.object(nonResourceRule)), 3),
                ]))), 4),
            ])), 2),
            F("status", .object(TypeSchema(prefix + "FlowSchemaStatus", [
                F("conditions", .array(.object(condition("FlowSchema"))), 1, patch: .mergeByKey("type")),
            ])), 3),
        ]))

    static let queuing = TypeSchema(prefix + "QueuingConfiguration", [F("queues", .int32, 1), F("handSize", .int32, 2), F("queueLengthLimit", .int32, 3)])

    public static let priorityLevelConfiguration = TypeSchema(prefix + "PriorityLevelConfiguration",
        description: "PriorityLevelConfiguration represents the configuration of a priority level.",
        MetaSchemas.top([
            F("spec", .object(TypeSchema(prefix + "PriorityLevelConfigurationSpec", [
                F("type", .string, 1),
                F("limited", .object(TypeSchema(prefix + "LimitedPriorityLevelConfiguration", [
                    F("nominalConcurrencyShares", .int32, 1, pointer: true),
                    F("limitResponse", .object(TypeSchema(prefix + "LimitResponse", [
                        F("type", .string, 1), F("queuing", .object(queuing), 2, pointer: true),
                    ])), 2),
                    F("lendablePercent", .int32, 3, pointer: true), F("borrowingLimitPercent", .int32, 4, pointer: true),
                ])), 2, pointer: true),
                F("exempt", .object(TypeSchema(prefix + "ExemptPriorityLevelConfiguration", [
                    F("nominalConcurrencyShares", .int32, 1, pointer: true), F("lendablePercent", .int32, 2, pointer: true),
                ])), 3, pointer: true),
            ])), 2),
            F("status", .object(TypeSchema(prefix + "PriorityLevelConfigurationStatus", [
                F("conditions", .array(.object(condition("PriorityLevelConfiguration"))), 1, patch: .mergeByKey("type")),
            ])), 3),
        ]))
}
