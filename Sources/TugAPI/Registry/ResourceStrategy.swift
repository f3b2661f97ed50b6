public import Foundation
public import TugAPIMachinery

/// Per-kind behaviour behind the generic resource store, after Kubernetes' registry strategies.
public protocol ResourceStrategy: Sendable {
    /// Fills the defaults Kubernetes applies (`restartPolicy`, `strategy`, …). Runs on create and on every update.
    func applyDefaults(_ object: inout JSONValue)
    /// Create-only preparation: clear status, derive fields (e.g. Job selectors from the uid).
    func prepareForCreate(_ object: inout JSONValue)
    /// Update preparation: keep what an update of the main resource may not change (status).
    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue)
    func validate(_ object: JSONValue) -> FieldErrorList
    func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList
    /// Server-side printing (`kubectl get`): column definitions and one row of cells.
    var columns: [TableColumn] { get }
    func cells(_ object: JSONValue, now: Date) -> [JSONValue]
    /// Fields a `fieldSelector` may name, beyond `metadata.name` and `metadata.namespace`.
    func selectableFields(_ object: JSONValue) -> [String: String]
    /// Whether a spec change bumps `metadata.generation` (kinds without spec/status split bump on any change).
    var tracksGeneration: Bool { get }
    /// Problems with `metadata.name` (default: it must be a DNS-1123 subdomain).
    func nameErrors(_ name: String) -> [String]
    /// Seconds a deletion waits for the object's owner to confirm it (0: it goes at once).
    func gracePeriod(_ object: JSONValue, requested: Int64?) -> Int64
    /// Prepares an object whose deletion goes through a finalizing phase; returns false if deletion is immediate.
    func beginFinalizedDeletion(_ object: inout JSONValue) -> Bool
    /// Whether objects of this kind may still be created in a namespace that is being deleted.
    var allowedInTerminatingNamespace: Bool { get }
}

extension ResourceStrategy {
    public func applyDefaults(_ object: inout JSONValue) {}
    public func prepareForCreate(_ object: inout JSONValue) {
        if object["status"] != .null { object["status"] = .null }
    }
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {
        object["status"] = old["status"]
    }
    public func validate(_ object: JSONValue) -> FieldErrorList { FieldErrorList() }
    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList { validate(object) }
    public var columns: [TableColumn] { [.name, .age] }
    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] { [.string(object.name), TableColumn.age(object, now: now)] }
    public func selectableFields(_ object: JSONValue) -> [String: String] { [:] }
    public var tracksGeneration: Bool { true }
    public func nameErrors(_ name: String) -> [String] { NameValidation.subdomainErrors(name) }
    public func gracePeriod(_ object: JSONValue, requested: Int64?) -> Int64 { 0 }
    public func beginFinalizedDeletion(_ object: inout JSONValue) -> Bool { false }
    public var allowedInTerminatingNamespace: Bool { false }
}

/// A strategy for kinds whose whole object is data (ConfigMap, Secret, Lease…): no status split.
public protocol DataStrategy: ResourceStrategy {}
extension DataStrategy {
    public func prepareForCreate(_ object: inout JSONValue) {}
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {}
    public var tracksGeneration: Bool { false }
}
