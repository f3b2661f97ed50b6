public import TugAPIMachinery

/// scheduling.k8s.io PriorityClass.
public enum SchedulingSchemas {
    public static let priorityClass = TypeSchema("io.k8s.api.scheduling.v1.PriorityClass",
        description: "PriorityClass defines mapping from a priority class name to the priority integer value.",
        MetaSchemas.top([
            F("value", .int32, 2), F("globalDefault", .bool, 3), F("description", .string, 4), F("preemptionPolicy", .string, 5, pointer: true),
        ]))
}
