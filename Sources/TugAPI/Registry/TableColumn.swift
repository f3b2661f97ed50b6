public import Foundation
public import TugAPIMachinery

/// A `meta.k8s.io/v1` Table column definition.
public struct TableColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    public var description: String
    public var priority: Int

    public init(_ name: String, type: String = "string", format: String = "", description: String = "", priority: Int = 0) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    public static let name = TableColumn("Name", format: "name", description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
    public static let age = TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.")

    public var json: JSONValue {
        ["name": .string(name), "type": .string(type), "format": .string(format), "description": .string(description), "priority": .int(Int64(priority))]
    }

    /// The Age cell: `<unknown>` when there is no timestamp.
    public static func age(_ object: JSONValue, now: Date) -> JSONValue {
        guard let text = object.creationTimestamp, let created = KubeTime.parse(text) else { return "<unknown>" }
        return .string(KubeTime.humanDuration(now.timeIntervalSince(created)))
    }

    public static func since(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let t = KubeTime.parse(timestamp) else { return "<unknown>" }
        return KubeTime.humanDuration(now.timeIntervalSince(t))
    }
}

/// Shared cell helpers for workload printers.
public enum Cells {
    public static func int(_ value: JSONValue) -> JSONValue { .int(value.intValue ?? 0) }

    public static func containers(_ podSpec: JSONValue) -> JSONValue {
        .string((podSpec["containers"].arrayValue ?? []).compactMap { $0["name"].stringValue }.joined(separator: ","))
    }

    public static func images(_ podSpec: JSONValue) -> JSONValue {
        .string((podSpec["containers"].arrayValue ?? []).compactMap { $0["image"].stringValue }.joined(separator: ","))
    }

    public static func selector(_ selector: JSONValue) -> JSONValue {
        guard let s = try? LabelSelector.from(selector), !s.isEmpty else { return "<none>" }
        return .string(s.description)
    }

    public static let containersColumn = TableColumn("Containers", description: "Names of each container in the template.", priority: 1)
    public static let imagesColumn = TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1)
    public static let selectorColumn = TableColumn("Selector", description: "Label selector for pods.", priority: 1)
}
