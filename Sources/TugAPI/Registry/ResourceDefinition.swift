public import TugAPIMachinery

/// Everything the API server needs to know about one resource: naming, scope, discovery data, schema and strategy.
///
/// A new kind is one `ResourceDefinition` in its folder plus one line in `Scheme.builtIn`: routing, discovery,
/// OpenAPI, tables, storage and decoding all look kinds up here.
public struct ResourceDefinition: Sendable {
    public var group: String
    public var version: String
    public var kind: String
    public var resource: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    public var verbs: [String]
    public var subresources: [Subresource]
    public var schema: TypeSchema
    public var strategy: any ResourceStrategy
    /// Resources served from the storage of another (events.k8s.io events live with core events).
    public var storageResource: GroupResource?

    public init(group: String, version: String, kind: String, resource: String, namespaced: Bool,
                shortNames: [String] = [], categories: [String] = [], verbs: [String] = ResourceDefinition.allVerbs,
                subresources: [Subresource] = [], schema: TypeSchema, strategy: any ResourceStrategy,
                storageResource: GroupResource? = nil) {
        self.group = group
        self.version = version
        self.kind = kind
        self.resource = resource
        self.singular = kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.verbs = verbs
        self.subresources = subresources
        self.schema = schema
        self.strategy = strategy
        self.storageResource = storageResource
    }

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var groupResource: GroupResource { GroupResource(group: group, resource: resource) }
    public var listKind: String { "\(kind)List" }
    public var hasStatus: Bool { subresources.contains { $0.name == "status" } }

    public func subresource(_ name: String) -> Subresource? { subresources.first { $0.name == name } }
}

public struct Subresource: Sendable {
    public var name: String
    public var group: String
    public var version: String
    public var kind: String
    public var verbs: [String]

    public init(name: String, group: String, version: String, kind: String, verbs: [String]) {
        self.name = name
        self.group = group
        self.version = version
        self.kind = kind
        self.verbs = verbs
    }

    public static func status(of kind: String, group: String, version: String) -> Subresource {
        Subresource(name: "status", group: group, version: version, kind: kind, verbs: ["get", "patch", "update"])
    }
    public static let scale = Subresource(name: "scale", group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"])
}
