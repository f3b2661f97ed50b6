import TugAPIMachinery

/// The set of served resources, looked up by group/version/resource, by kind, or by group.
public struct Scheme: Sendable {
    public let definitions: [ResourceDefinition]
    private let byPath: [String: Int]
    private let byKind: [String: Int]
    private let byStorage: [GroupResource: Int]

    public init(_ definitions: [ResourceDefinition]) {
        self.definitions = definitions
        var byPath: [String: Int] = [:]
        var byKind: [String: Int] = [:]
        var byStorage: [GroupResource: Int] = [:]
        for (i, d) in definitions.enumerated() {
            byPath["\(d.group)/\(d.version)/\(d.resource)"] = i
            byKind["\(d.group)/\(d.version)/\(d.kind)"] = i
            if d.storageResource == nil, byStorage[d.groupResource] == nil { byStorage[d.groupResource] = i }
        }
        self.byPath = byPath
        self.byKind = byKind
        self.byStorage = byStorage
    }

    public func resource(group: String, version: String, resource: String) -> ResourceDefinition? {
        byPath["\(group)/\(version)/\(resource)"].map { definitions[$0] }
    }

    public func kind(group: String, version: String, kind: String) -> ResourceDefinition? {
        byKind["\(group)/\(version)/\(kind)"].map { definitions[$0] }
    }

    /// Groups in discovery order (core first, then as registered), each with its versions.
    public var groups: [(group: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for d in definitions {
            if versions[d.group] == nil { order.append(d.group) }
            if !(versions[d.group]?.contains(d.version) ?? false) { versions[d.group, default: []].append(d.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    public func resources(group: String, version: String) -> [ResourceDefinition] {
        definitions.filter { $0.group == group && $0.version == version }
    }

    /// The definition that owns the storage of a group/resource (the one objects are stored and keyed by).
    public func storageDefinition(group: String, resource: String) -> ResourceDefinition? {
        byStorage[GroupResource(group: group, resource: resource)].map { definitions[$0] }
    }

    /// The resource whose storage holds this one (itself unless it shares another's, like events.k8s.io events).
    public func storageDefinition(for definition: ResourceDefinition) -> ResourceDefinition {
        guard let target = definition.storageResource else { return definition }
        return storageDefinition(group: target.group, resource: target.resource) ?? definition
    }
}
