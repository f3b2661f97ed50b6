public import Foundation
public import TugAPIMachinery

/// What every controller-with-a-template shares: template defaults, selector/template agreement, immutable selector.
enum WorkloadSupport {
    static func defaultTemplate(_ object: inout JSONValue, path: [String] = ["spec", "template"]) {
        var template = object.value(at: path)
        guard case .object = template else { return }
        PodDefaults.apply(spec: &template["spec"])
        set(&object, path, template)
    }

    static func set(_ object: inout JSONValue, _ path: [String], _ value: JSONValue) {
        guard let first = path.first else { object = value; return }
        var child = object[first]
        set(&child, Array(path.dropFirst()), value)
        object[first] = child
    }

    static func validate(_ object: JSONValue, selectorRequired: Bool = true, templatePath: String = "spec.template") -> FieldErrorList {
        var errors = FieldErrorList()
        let spec = object["spec"]
        if let replicas = spec["replicas"].intValue, replicas < 0 {
            errors.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0")
        }
        let templateLabels = object.value(at: templatePath.split(separator: ".").map(String.init))["metadata"]["labels"].stringMap
        if spec["selector"].isNull {
            if selectorRequired { errors.required("spec.selector") }
        } else {
            do {
                let selector = try LabelSelector.from(spec["selector"])
                if selector.isEmpty {
                    errors.invalid("spec.selector", spec["selector"], "empty selector is invalid for deployment")
                } else if !selector.matches(templateLabels) {
                    errors.invalid("\(templatePath).metadata.labels", JSONValue(stringMap: templateLabels), "`selector` does not match template `labels`")
                }
            } catch {
                errors.invalid("spec.selector", spec["selector"], error.description)
            }
        }
        let template = object.value(at: templatePath.split(separator: ".").map(String.init))
        errors.append(contentsOf: PodValidation.validate(spec: template["spec"], field: "\(templatePath).spec"))
        return errors
    }

    static func validateImmutableSelector(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        if object["spec"]["selector"] != old["spec"]["selector"] {
            errors.invalid("spec.selector", object["spec"]["selector"], "field is immutable")
        }
        return errors
    }

    static func replicas(_ object: JSONValue) -> JSONValue { .int(object["spec"]["replicas"].intValue ?? 1) }
}

/// Controllers with a pod template: validation checks the selector against the template, and the selector is immutable.
public protocol WorkloadStrategy: ResourceStrategy {}

extension WorkloadStrategy {
    public func validate(_ object: JSONValue) -> FieldErrorList { WorkloadSupport.validate(object) }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        errors.append(contentsOf: WorkloadSupport.validateImmutableSelector(object, old: old))
        return errors
    }
}

public struct DeploymentStrategy: WorkloadStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object["spec"], "replicas", 1)
        PodDefaults.setIfAbsent(&object["spec"], "revisionHistoryLimit", 10)
        PodDefaults.setIfAbsent(&object["spec"], "progressDeadlineSeconds", 600)
        if object["spec"]["strategy"]["type"].isNull { object["spec"]["strategy"]["type"] = "RollingUpdate" }
        if object["spec"]["strategy"]["type"] == "RollingUpdate" {
            PodDefaults.setIfAbsent(&object["spec"]["strategy"], "rollingUpdate", .emptyObject)
            PodDefaults.setIfAbsent(&object["spec"]["strategy"]["rollingUpdate"], "maxUnavailable", "25%")
            PodDefaults.setIfAbsent(&object["spec"]["strategy"]["rollingUpdate"], "maxSurge", "25%")
        }
        WorkloadSupport.defaultTemplate(&object)
    }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = WorkloadSupport.validate(object)
        let type = object["spec"]["strategy"]["type"].stringValue ?? "RollingUpdate"
        if !["RollingUpdate", "Recreate"].contains(type) {
            errors.append(FieldError(.notSupported(["Recreate", "RollingUpdate"]), field: "spec.strategy.type", value: .string(type)))
        }
        if type == "Recreate", object["spec"]["strategy"]["rollingUpdate"] != .null {
            errors.append(FieldError(.forbidden, field: "spec.strategy.rollingUpdate", detail: "may not be specified when strategy `type` is 'Recreate'"))
        }
        return errors
    }


    public var columns: [TableColumn] {
        [.name, TableColumn("Ready", description: "Number of the pod with ready state"),
         TableColumn("Up-to-date", type: "integer", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
         TableColumn("Available", type: "integer", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
         .age, Cells.containersColumn, Cells.imagesColumn, Cells.selectorColumn]
    }

    public func cells(_ d: JSONValue, now: Date) -> [JSONValue] {
        let status = d["status"]
        return [.string(d.name), .string("\(status["readyReplicas"].intValue ?? 0)/\(WorkloadSupport.replicas(d).intValue ?? 0)"),
                Cells.int(status["updatedReplicas"]), Cells.int(status["availableReplicas"]), TableColumn.age(d, now: now),
                Cells.containers(d["spec"]["template"]["spec"]), Cells.images(d["spec"]["template"]["spec"]), Cells.selector(d["spec"]["selector"])]
    }
}

public struct ReplicaSetStrategy: WorkloadStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object["spec"], "replicas", 1)
        WorkloadSupport.defaultTemplate(&object)
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Desired", type: "integer", description: "Number of desired pods."),
         TableColumn("Current", type: "integer", description: "Number of actual replicas."),
         TableColumn("Ready", type: "integer", description: "The number of ready replicas for this replica set."),
         .age, Cells.containersColumn, Cells.imagesColumn, Cells.selectorColumn]
    }

    public func cells(_ rs: JSONValue, now: Date) -> [JSONValue] {
        [.string(rs.name), WorkloadSupport.replicas(rs), Cells.int(rs["status"]["replicas"]), Cells.int(rs["status"]["readyReplicas"]),
         TableColumn.age(rs, now: now), Cells.containers(rs["spec"]["template"]["spec"]), Cells.images(rs["spec"]["template"]["spec"]),
         Cells.selector(rs["spec"]["selector"])]
    }
}

public struct StatefulSetStrategy: WorkloadStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object["spec"], "replicas", 1)
        PodDefaults.setIfAbsent(&object["spec"], "podManagementPolicy", "OrderedReady")
        PodDefaults.setIfAbsent(&object["spec"], "revisionHistoryLimit", 10)
        PodDefaults.setIfAbsent(&object["spec"], "updateStrategy", ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        PodDefaults.setIfAbsent(&object["spec"], "persistentVolumeClaimRetentionPolicy", ["whenDeleted": "Retain", "whenScaled": "Retain"])
        if case .array(var claims) = object["spec"]["volumeClaimTemplates"] {
            for i in claims.indices {
                PodDefaults.setIfAbsent(&claims[i]["spec"], "volumeMode", "Filesystem")
                PodDefaults.setIfAbsent(&claims[i], "apiVersion", "v1")
                PodDefaults.setIfAbsent(&claims[i], "kind", "PersistentVolumeClaim")
                PodDefaults.setIfAbsent(&claims[i], "status", ["phase": "Pending"])
            }
            object["spec"]["volumeClaimTemplates"] = .array(claims)
        }
        WorkloadSupport.defaultTemplate(&object)
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Ready", description: "Number of the pod with ready state"), .age, Cells.containersColumn, Cells.imagesColumn]
    }

    public func cells(_ s: JSONValue, now: Date) -> [JSONValue] {
        [.string(s.name), .string("\(s["status"]["readyReplicas"].intValue ?? 0)/\(WorkloadSupport.replicas(s).intValue ?? 0)"),
         TableColumn.age(s, now: now), Cells.containers(s["spec"]["template"]["spec"]), Cells.images(s["spec"]["template"]["spec"])]
    }
}

public struct DaemonSetStrategy: WorkloadStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        PodDefaults.setIfAbsent(&object["spec"], "revisionHistoryLimit", 10)
        PodDefaults.setIfAbsent(&object["spec"], "updateStrategy", ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]])
        WorkloadSupport.defaultTemplate(&object)
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Desired", type: "integer", description: "The total number of nodes that should be running the daemon pod."),
         TableColumn("Current", type: "integer", description: "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
         TableColumn("Ready", type: "integer", description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
         TableColumn("Up-to-date", type: "integer", description: "The total number of nodes that are running updated daemon pod"),
         TableColumn("Available", type: "integer", description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
         TableColumn("Node Selector", description: "NodeSelector is a selector which must be true for the pod to fit on a node."),
         .age, Cells.containersColumn, Cells.imagesColumn, Cells.selectorColumn]
    }

    public func cells(_ d: JSONValue, now: Date) -> [JSONValue] {
        let s = d["status"]
        let nodeSelector = d["spec"]["template"]["spec"]["nodeSelector"].stringMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [.string(d.name), Cells.int(s["desiredNumberScheduled"]), Cells.int(s["currentNumberScheduled"]), Cells.int(s["numberReady"]),
                Cells.int(s["updatedNumberScheduled"]), Cells.int(s["numberAvailable"]), .string(nodeSelector.isEmpty ? "<none>" : nodeSelector),
                TableColumn.age(d, now: now), Cells.containers(d["spec"]["template"]["spec"]), Cells.images(d["spec"]["template"]["spec"]),
                Cells.selector(d["spec"]["selector"])]
    }
}
