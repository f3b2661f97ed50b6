public import TugAPI
public import TugAPIMachinery
public import TugStorage

/// Storage keys: `/<group or core>/<resource>/<namespace>/<name>` (cluster-scoped: `/<group>/<resource>/<name>`).
public enum StorageKeys {
    public static func prefix(_ d: ResourceDefinition, namespace: String?) -> String {
        let base = "/\(d.group.isEmpty ? "core" : d.group)/\(d.resource)/"
        guard d.namespaced, let namespace, !namespace.isEmpty else { return base }
        return base + namespace + "/"
    }

    public static func key(_ d: ResourceDefinition, namespace: String, name: String) -> String {
        d.namespaced ? prefix(d, namespace: namespace) + name : prefix(d, namespace: nil) + name
    }

    /// The selectable fields the store indexes, as kube's watch cache does: an agent lists and watches its own pods,
    /// and event lookups name their object, so both cost what they return rather than a scan of the whole resource.
    public static let indexedFields: Set<String> = ["spec.nodeName", "involvedObject.uid", "involvedObject.name"]

    /// The selector attributes of an object: labels plus `metadata.name`, `metadata.namespace` and per-kind fields.
    public static func attributes(_ object: JSONValue, definition: ResourceDefinition) -> ObjectAttributes {
        var fields = definition.strategy.selectableFields(object)
        fields["metadata.name"] = object.name
        fields["metadata.namespace"] = object.namespace
        return ObjectAttributes(labels: object.labels, fields: fields)
    }

    /// Selector attributes recomputed from stored bytes (store recovery); throws when the value is not a JSON object
    /// (a corrupt record).
    public static func indexer(scheme: Scheme) -> @Sendable (String, [UInt8]) throws -> ObjectAttributes {
        { key, value in
            let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
            let object: JSONValue
            do { object = try JSONParser.parseValue(value) } catch { throw CorruptRecord(key: key, reason: "\(error)") }
            guard case .object = object else { throw CorruptRecord(key: key, reason: "not a JSON object") }
            guard parts.count >= 2 else { return ObjectAttributes() }
            let group = parts[0] == "core" ? "" : parts[0]
            guard let d = scheme.storageDefinition(group: group, resource: parts[1]) else {
                return ObjectAttributes(labels: object.labels, fields: ["metadata.name": object.name, "metadata.namespace": object.namespace])
            }
            return attributes(object, definition: d)
        }
    }
}

/// A stored value that cannot be read back as an object.
public struct CorruptRecord: Error, CustomStringConvertible {
    public var key: String
    public var reason: String
    public var description: String { "\(key): \(reason)" }
}
