public import TugAPIMachinery

/// Which object a controller works on: namespace (empty for cluster-scoped objects) and name. Keys are typed, never a
/// "ns/name" string.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String = "", name: String) {
        self.namespace = namespace
        self.name = name
    }

    public init(_ object: JSONValue) {
        self.init(namespace: object.namespace, name: object.name)
    }

    public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
}
