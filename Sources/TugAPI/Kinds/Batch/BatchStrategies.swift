public import Foundation
public import TugAPIMachinery

public struct JobStrategy: ResourceStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        let spec = object["spec"]
        if spec["completions"].isNull, spec["parallelism"].isNull { object["spec"]["completions"] = 1 }
        PodDefaults.setIfAbsent(&object["spec"], "parallelism", 1)
        PodDefaults.setIfAbsent(&object["spec"], "backoffLimit", 6)
        PodDefaults.setIfAbsent(&object["spec"], "completionMode", "NonIndexed")
        PodDefaults.setIfAbsent(&object["spec"], "suspend", false)
        PodDefaults.setIfAbsent(&object["spec"], "manualSelector", .null)
        PodDefaults.setIfAbsent(&object["spec"], "podReplacementPolicy", "TerminatingOrFailed")
        WorkloadSupport.defaultTemplate(&object)
    }

    /// Generates the controller-uid selector and template labels, as the Job registry does.
    public func prepareForCreate(_ object: inout JSONValue) {
        object["status"] = .null
        guard object["spec"]["manualSelector"].boolValue != true else { return }
        let uid = JSONValue.string(object.uid)
        object["spec"]["selector"] = ["matchLabels": ["batch.kubernetes.io/controller-uid": uid]]
        var labels = object["spec"]["template"]["metadata"]["labels"].stringMap
        labels["batch.kubernetes.io/controller-uid"] = object.uid
        labels["batch.kubernetes.io/job-name"] = object.name
        labels["controller-uid"] = object.uid
        labels["job-name"] = object.name
        object["spec"]["template"]["metadata"]["labels"] = JSONValue(stringMap: labels)
        // A Job without labels of its own takes its template's (batch/v1 defaulting).
        if object.labels.isEmpty { object.labels = labels }
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = WorkloadSupport.validate(object, selectorRequired: false)
        let policy = object["spec"]["template"]["spec"]["restartPolicy"].stringValue ?? ""
        if !["OnFailure", "Never"].contains(policy) {
            errors.append(FieldError(.notSupported(["OnFailure", "Never"]), field: "spec.template.spec.restartPolicy", value: .string(policy)))
        }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        errors.append(contentsOf: WorkloadSupport.validateImmutableSelector(object, old: old))
        if object["spec"]["template"] != old["spec"]["template"] {
            errors.invalid("spec.template", object["spec"]["template"], "field is immutable")
        }
        return errors
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Status", description: "Status of the job."),
         TableColumn("Completions", description: "The successfully completed pods of the job out of the desired completions."),
         TableColumn("Duration", description: "Time required to complete the job."), .age,
         Cells.containersColumn, Cells.imagesColumn, Cells.selectorColumn]
    }

    public func cells(_ job: JSONValue, now: Date) -> [JSONValue] {
        let status = job["status"]
        let conditions = status["conditions"].arrayValue ?? []
        func has(_ type: String) -> Bool { conditions.contains { $0["type"].stringValue == type && $0["status"] == "True" } }
        let state: String
        if has("Complete") { state = "Complete" } else if has("Failed") { state = "Failed" }
        else if job.deletionTimestamp != nil { state = "Terminating" } else if has("Suspended") { state = "Suspended" }
        else if has("FailureTarget") { state = "FailureTarget" } else { state = "Running" }
        let completions = job["spec"]["completions"].intValue.map { "\(status["succeeded"].intValue ?? 0)/\($0)" } ?? "\(status["succeeded"].intValue ?? 0)/1 of \(job["spec"]["parallelism"].intValue ?? 1)"
        var duration = ""
        if let start = status["startTime"].stringValue.flatMap(KubeTime.parse) {
            let end = status["completionTime"].stringValue.flatMap(KubeTime.parse) ?? now
            duration = KubeTime.humanDuration(end.timeIntervalSince(start))
        }
        return [.string(job.name), .string(state), .string(completions), .string(duration), TableColumn.age(job, now: now),
                Cells.containers(job["spec"]["template"]["spec"]), Cells.images(job["spec"]["template"]["spec"]), Cells.selector(job["spec"]["selector"])]
    }
}

public struct CronJobStrategy: ResourceStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object["spec"], "concurrencyPolicy", "Allow")
        PodDefaults.setIfAbsent(&object["spec"], "suspend", false)
        PodDefaults.setIfAbsent(&object["spec"], "successfulJobsHistoryLimit", 3)
        PodDefaults.setIfAbsent(&object["spec"], "failedJobsHistoryLimit", 1)
        WorkloadSupport.defaultTemplate(&object, path: ["spec", "jobTemplate", "spec", "template"])
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let schedule = object["spec"]["schedule"].stringValue ?? ""
        if schedule.isEmpty { errors.required("spec.schedule") }
        else if !CronSchedule.isValid(schedule) { errors.invalid("spec.schedule", .string(schedule), "unparseable cron schedule") }
        let policy = object["spec"]["concurrencyPolicy"].stringValue ?? "Allow"
        if !["Allow", "Forbid", "Replace"].contains(policy) {
            errors.append(FieldError(.notSupported(["Allow", "Forbid", "Replace"]), field: "spec.concurrencyPolicy", value: .string(policy)))
        }
        errors.append(contentsOf: PodValidation.validate(spec: object["spec"]["jobTemplate"]["spec"]["template"]["spec"], field: "spec.jobTemplate.spec.template.spec"))
        return errors
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Schedule", description: "The schedule in Cron format"),
         TableColumn("Timezone", description: "The time zone name for the given schedule"),
         TableColumn("Suspend", type: "boolean", description: "This flag tells the controller to suspend subsequent executions."),
         TableColumn("Active", type: "integer", description: "A list of pointers to currently running jobs."),
         TableColumn("Last Schedule", description: "Information when was the last time the job was successfully scheduled."), .age,
         Cells.containersColumn, Cells.imagesColumn, Cells.selectorColumn]
    }

    public func cells(_ cj: JSONValue, now: Date) -> [JSONValue] {
        let template = cj["spec"]["jobTemplate"]["spec"]
        let last = cj["status"]["lastScheduleTime"].stringValue.map { TableColumn.since($0, now: now) } ?? "<none>"
        return [.string(cj.name), .string(cj["spec"]["schedule"].stringValue ?? ""), .string(cj["spec"]["timeZone"].stringValue ?? "<none>"),
                .bool(cj["spec"]["suspend"].boolValue ?? false), .int(Int64(cj["status"]["active"].arrayValue?.count ?? 0)), .string(last),
                TableColumn.age(cj, now: now), Cells.containers(template["template"]["spec"]), Cells.images(template["template"]["spec"]),
                Cells.selector(template["selector"])]
    }
}

/// Five-field cron syntax (plus `@hourly`-style macros), checked field by field.
public enum CronSchedule {
    static let ranges: [ClosedRange<Int>] = [0...59, 0...23, 1...31, 1...12, 0...7]
    static let names: [[String]] = [[], [], [], ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]]

    public static func isValid(_ text: String) -> Bool {
        var schedule = text.trimmingCharacters(in: .whitespaces)
        if schedule.hasPrefix("TZ=") || schedule.hasPrefix("CRON_TZ=") { return false }
        if schedule.hasPrefix("@") {
            return ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"].contains(schedule)
        }
        schedule = schedule.lowercased()
        let fields = schedule.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else { return false }
        for (i, field) in fields.enumerated() {
            for part in field.split(separator: ",", omittingEmptySubsequences: false) {
                let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
                guard pieces.count <= 2 else { return false }
                if pieces.count == 2, Int(pieces[1]).map({ $0 > 0 }) != true { return false }
                let range = pieces[0]
                if range == "*" || range == "?" { continue }
                let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(bounds.count) else { return false }
                for b in bounds {
                    let value = Int(b) ?? names[i].firstIndex(of: String(b)).map { $0 + (i == 3 ? 1 : 0) }
                    guard let value, ranges[i].contains(value) else { return false }
                }
            }
        }
        return true
    }
}
