public import TugAPIMachinery

/// batch/v1 Job and CronJob.
public enum BatchSchemas {
    static let open = TypeSchema.anyObject
    static let top = MetaSchemas.top

    static let jobSpec = TypeSchema("io.k8s.api.batch.v1.JobSpec", [
        F("parallelism", .int32, 1, pointer: true), F("completions", .int32, 2, pointer: true), F("activeDeadlineSeconds", .int64, 3, pointer: true),
        F("selector", .object(MetaSchemas.labelSelector), 4), F("manualSelector", .bool, 5, pointer: true),
        F("template", .object(PodSchemas.podTemplateSpec), 6), F("backoffLimit", .int32, 7, pointer: true),
        F("ttlSecondsAfterFinished", .int32, 8, pointer: true), F("completionMode", .string, 9, pointer: true), F("suspend", .bool, 10, pointer: true),
        F("podFailurePolicy", .object(open), 11), F("backoffLimitPerIndex", .int32, 12, pointer: true), F("maxFailedIndexes", .int32, 13, pointer: true),
        F("podReplacementPolicy", .string, 14, pointer: true), F("managedBy", .string, 15, pointer: true), F("successPolicy", .object(open), 16),
    ])
    static let jobStatus = TypeSchema("io.k8s.api.batch.v1.JobStatus", [
        F("conditions", .array(.object(TypeSchema("io.k8s.api.batch.v1.JobCondition", [
            F("type", .string, 1), F("status", .string, 2), F("lastProbeTime", .time, 3), F("lastTransitionTime", .time, 4),
            F("reason", .string, 5), F("message", .string, 6),
        ]))), 1, patch: .mergeByKey("type")),
        F("startTime", .time, 2), F("completionTime", .time, 3), F("active", .int32, 4), F("succeeded", .int32, 5), F("failed", .int32, 6),
        F("completedIndexes", .string, 7), F("uncountedTerminatedPods", .object(open), 8), F("ready", .int32, 9, pointer: true),
        F("failedIndexes", .string, 10, pointer: true), F("terminating", .int32, 11, pointer: true),
    ])
    public static let job = TypeSchema("io.k8s.api.batch.v1.Job",
        description: "Job represents the configuration of a single job.",
        top([F("spec", .object(jobSpec), 2), F("status", .object(jobStatus), 3)]))

    static let jobTemplateSpec = TypeSchema("io.k8s.api.batch.v1.JobTemplateSpec", [
        F("metadata", .object(MetaSchemas.objectMeta), 1), F("spec", .object(jobSpec), 2),
    ])
    public static let cronJob = TypeSchema("io.k8s.api.batch.v1.CronJob",
        description: "CronJob represents the configuration of a single cron job.",
        top([
            F("spec", .object(TypeSchema("io.k8s.api.batch.v1.CronJobSpec", [
                F("schedule", .string, 1), F("startingDeadlineSeconds", .int64, 2, pointer: true), F("concurrencyPolicy", .string, 3),
                F("suspend", .bool, 4, pointer: true), F("jobTemplate", .object(jobTemplateSpec), 5),
                F("successfulJobsHistoryLimit", .int32, 6, pointer: true), F("failedJobsHistoryLimit", .int32, 7, pointer: true),
                F("timeZone", .string, 8, pointer: true),
            ])), 2),
            F("status", .object(TypeSchema("io.k8s.api.batch.v1.CronJobStatus", [
                F("active", .array(.object(CoreSchemas.objectReference)), 1), F("lastScheduleTime", .time, 4), F("lastSuccessfulTime", .time, 5),
            ])), 3),
        ]))
}
