public import Foundation
public import TugAPIMachinery

public struct NamespaceStrategy: ResourceStrategy {
    public init() {}

    public func applyDefaults(_ object: inout JSONValue) {
        var labels = object.labels
        labels["kubernetes.io/metadata.name"] = object.name
        object.labels = labels
    }

    public func prepareForCreate(_ object: inout JSONValue) {
        object["spec"] = ["finalizers": ["kubernetes"]]
        object["status"] = ["phase": "Active"]
    }

    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {
        object["spec"] = old["spec"]
        object["status"] = old["status"]
    }

    public func nameErrors(_ name: String) -> [String] { NameValidation.labelErrors(name) }

    /// Namespaces are emptied before they go: deletion marks them Terminating and the lifecycle controller finishes it.
    public func beginFinalizedDeletion(_ object: inout JSONValue) -> Bool {
        object["status"]["phase"] = "Terminating"
        return true
    }

    public var columns: [TableColumn] {
        [.name, TableColumn("Status", description: "The status of the namespace"), .age]
    }

    public func cells(_ ns: JSONValue, now: Date) -> [JSONValue] {
        [.string(ns.name), .string(ns["status"]["phase"].stringValue ?? "Active"), TableColumn.age(ns, now: now)]
    }

    public func selectableFields(_ ns: JSONValue) -> [String: String] { ["status.phase": ns["status"]["phase"].stringValue ?? ""] }
    public var tracksGeneration: Bool { false }
}

public struct NodeStrategy: ResourceStrategy {
    public init() {}

    public func prepareForCreate(_ object: inout JSONValue) {}

    public var columns: [TableColumn] {
        [.name, TableColumn("Status", description: "The status of the node"), TableColumn("Roles", description: "The roles of the node"), .age,
         TableColumn("Version", description: "Kubelet Version reported by the node."),
         TableColumn("Internal-IP", description: "List of addresses reachable to the node.", priority: 1),
         TableColumn("External-IP", description: "List of addresses reachable to the node.", priority: 1),
         TableColumn("OS-Image", description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
         TableColumn("Kernel-Version", description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
         TableColumn("Container-Runtime", description: "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1)]
    }

    public func cells(_ node: JSONValue, now: Date) -> [JSONValue] {
        let conditions = node["status"]["conditions"].arrayValue ?? []
        var status: [String] = []
        if let ready = conditions.first(where: { $0["type"] == "Ready" }) {
            status.append(ready["status"] == "True" ? "Ready" : (ready["status"] == "False" ? "NotReady" : "Unknown"))
        } else {
            status.append("Unknown")
        }
        if node["spec"]["unschedulable"].boolValue == true { status.append("SchedulingDisabled") }
        let roles = node.labels.keys.compactMap { key -> String? in
            if key.hasPrefix("node-role.kubernetes.io/") { return String(key.dropFirst("node-role.kubernetes.io/".count)) }
            return nil
        }.filter { !$0.isEmpty }.sorted()
        func address(_ type: String) -> String {
            (node["status"]["addresses"].arrayValue ?? []).first { $0["type"].stringValue == type }?["address"].stringValue ?? "<none>"
        }
        let info = node["status"]["nodeInfo"]
        return [.string(node.name), .string(status.joined(separator: ",")), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
                TableColumn.age(node, now: now), .string(info["kubeletVersion"].stringValue ?? ""), .string(address("InternalIP")),
                .string(address("ExternalIP")), .string(info["osImage"].stringValue ?? "<unknown>"),
                .string(info["kernelVersion"].stringValue ?? "<unknown>"), .string(info["containerRuntimeVersion"].stringValue ?? "<unknown>")]
    }

    public func selectableFields(_ node: JSONValue) -> [String: String] {
        ["spec.unschedulable": node["spec"]["unschedulable"].boolValue == true ? "true" : "false"]
    }
}

public struct EventStrategy: DataStrategy {
    public init() {}

    /// Event names are generated (`<object>.<hex>`) and only need to be non-empty.
    public func nameErrors(_ name: String) -> [String] { [] }
    /// Events about the deletion itself are still recorded in a terminating namespace.
    public var allowedInTerminatingNamespace: Bool { true }

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        if object["involvedObject"].isNull && object["regarding"].isNull { errors.required("involvedObject") }
        return errors
    }

    public var columns: [TableColumn] {
        [TableColumn("Last Seen", description: "Time when last occurrence of this event was recorded."),
         TableColumn("Type", description: "Type of this event (Normal, Warning), new types could be added in the future."),
         TableColumn("Reason", description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
         TableColumn("Object", description: "The object that this event is about."),
         TableColumn("Subobject", description: "The subobject of the involved object.", priority: 1),
         TableColumn("Source", description: "The component reporting this event.", priority: 1),
         TableColumn("Message", description: "A human-readable description of the status of this operation."),
         TableColumn("First Seen", description: "The time at which the event was first recorded.", priority: 1),
         TableColumn("Count", type: "integer", description: "The number of times this event has occurred.", priority: 1),
         TableColumn("Name", format: "name", description: "The name of the event.", priority: 1)]
    }

    public func cells(_ e: JSONValue, now: Date) -> [JSONValue] {
        let last = e["lastTimestamp"].stringValue ?? e["eventTime"].stringValue ?? e.creationTimestamp
        let first = e["firstTimestamp"].stringValue ?? e["eventTime"].stringValue ?? e.creationTimestamp
        let involved = e["involvedObject"]
        let object = "\((involved["kind"].stringValue ?? "").lowercased())/\(involved["name"].stringValue ?? "")"
        var source = e["source"]["component"].stringValue ?? e["reportingComponent"].stringValue ?? ""
        if let host = e["source"]["host"].stringValue, !host.isEmpty { source += ", \(host)" }
        return [.string(TableColumn.since(last, now: now)), .string(e["type"].stringValue ?? ""), .string(e["reason"].stringValue ?? ""),
                .string(object), .string(involved["fieldPath"].stringValue ?? ""), .string(source), .string(e["message"].stringValue ?? ""),
                .string(TableColumn.since(first, now: now)), .int(e["count"].intValue ?? 1), .string(e.name)]
    }

    /// `involvedObject`'s members and their field names, spelled out: a name built per event ("involvedObject.\(m)")
    /// is a string allocation each, held as long as the event (47 MB at 150,000 events).
    static let involvedObjectFields = [
        ("kind", "involvedObject.kind"), ("namespace", "involvedObject.namespace"), ("name", "involvedObject.name"),
        ("uid", "involvedObject.uid"), ("apiVersion", "involvedObject.apiVersion"),
        ("resourceVersion", "involvedObject.resourceVersion"), ("fieldPath", "involvedObject.fieldPath"),
    ]

    public func selectableFields(_ e: JSONValue) -> [String: String] {
        let o = e["involvedObject"]
        var fields: [String: String] = [:]
        for (member, field) in Self.involvedObjectFields { fields[field] = o[member].stringValue ?? "" }
        fields["reason"] = e["reason"].stringValue ?? ""
        fields["reportingComponent"] = e["reportingComponent"].stringValue ?? ""
        fields["source"] = e["source"]["component"].stringValue ?? ""
        fields["type"] = e["type"].stringValue ?? ""
        return fields
    }
}

/// Conversion between core/v1 Event (the storage form) and events.k8s.io/v1 Event.
public enum EventConversion {
    static let pairs: [(core: String, events: String)] = [
        ("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"), ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"), ("count", "deprecatedCount"), ("reportingComponent", "reportingController"),
    ]

    public static func toEventsV1(_ core: JSONValue) -> JSONValue {
        var out = core
        for (c, e) in pairs { out[e] = core[c]; out[c] = .null }
        // eventTime is required in events.k8s.io/v1; core events often carry only first/last timestamps.
        if out["eventTime"].isNull, let t = (core["firstTimestamp"].stringValue ?? core["lastTimestamp"].stringValue ?? core.creationTimestamp).flatMap(KubeTime.parse) {
            out["eventTime"] = .string(KubeTime.formatMicro(t))
        }
        out.apiVersion = "events.k8s.io/v1"
        return out
    }

    public static func toCore(_ event: JSONValue) -> JSONValue {
        var out = event
        for (c, e) in pairs { out[c] = event[e]; out[e] = .null }
        out.apiVersion = "v1"
        return out
    }
}
