/// Typed access to the `metadata` and type fields of any object held as `JSONValue`.
///
/// Raw objects stay JSON so that no field a client sent is ever lost; these accessors are how code reads and writes
/// the parts it owns.
extension JSONValue {
    public var kind: String? {
        get { self["kind"].stringValue }
        set { self["kind"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var apiVersion: String? {
        get { self["apiVersion"].stringValue }
        set { self["apiVersion"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var metadata: JSONValue {
        get { self["metadata"] }
        set { self["metadata"] = newValue }
    }

    public var name: String {
        get { self["metadata"]["name"].stringValue ?? "" }
        set { self["metadata"]["name"] = newValue.isEmpty ? .null : .string(newValue) }
    }
    public var generateName: String { self["metadata"]["generateName"].stringValue ?? "" }
    public var namespace: String {
        get { self["metadata"]["namespace"].stringValue ?? "" }
        set { self["metadata"]["namespace"] = newValue.isEmpty ? .null : .string(newValue) }
    }
    public var uid: String {
        get { self["metadata"]["uid"].stringValue ?? "" }
        set { self["metadata"]["uid"] = newValue.isEmpty ? .null : .string(newValue) }
    }
    public var resourceVersion: String {
        get { self["metadata"]["resourceVersion"].stringValue ?? "" }
        set { self["metadata"]["resourceVersion"] = newValue.isEmpty ? .null : .string(newValue) }
    }
    public var generation: Int64 {
        get { self["metadata"]["generation"].intValue ?? 0 }
        set { self["metadata"]["generation"] = newValue == 0 ? .null : .int(newValue) }
    }
    public var creationTimestamp: String? {
        get { self["metadata"]["creationTimestamp"].stringValue }
        set { self["metadata"]["creationTimestamp"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var deletionTimestamp: String? {
        get { self["metadata"]["deletionTimestamp"].stringValue }
        set { self["metadata"]["deletionTimestamp"] = newValue.map(JSONValue.string) ?? .null }
    }
    public var labels: [String: String] {
        get { self["metadata"]["labels"].stringMap }
        set { self["metadata"]["labels"] = newValue.isEmpty ? .null : JSONValue(stringMap: newValue) }
    }
    public var annotations: [String: String] {
        get { self["metadata"]["annotations"].stringMap }
        set { self["metadata"]["annotations"] = newValue.isEmpty ? .null : JSONValue(stringMap: newValue) }
    }
    public var finalizers: [String] {
        get { self["metadata"]["finalizers"].arrayValue?.compactMap(\.stringValue) ?? [] }
        set { self["metadata"]["finalizers"] = newValue.isEmpty ? .null : .array(newValue.map(JSONValue.string)) }
    }
    public var ownerReferences: [JSONValue] { self["metadata"]["ownerReferences"].arrayValue ?? [] }
}
