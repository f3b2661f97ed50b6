import Foundation
import TugAPI
import TugAPIMachinery

/// Server-side printing: `meta.k8s.io/v1` Tables for `kubectl get`.
struct TableRenderer {
    enum IncludeObject: String { case none = "None", metadata = "Metadata", object = "Object" }

    static let contentType = "application/json;as=Table;v=v1;g=meta.k8s.io"

    /// True when the Accept header asks for a Table (kubectl's `as=Table;…;g=meta.k8s.io`).
    static func wanted(_ accept: String) -> Bool {
        accept.contains("as=Table") && accept.contains("g=meta.k8s.io")
    }

    static func table(_ d: ResourceDefinition, objects: [JSONValue], resourceVersion: String, continueToken: String? = nil,
                      include: IncludeObject, now: Date, columns: Bool = true) -> JSONValue {
        let strategy = d.strategy
        var rows: [JSONValue] = []
        rows.reserveCapacity(objects.count)
        for object in objects {
            var row: JSONValue = ["cells": .array(strategy.cells(object, now: now))]
            switch include {
            case .none: break
            case .object: row["object"] = object
            case .metadata:
                row["object"] = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]]
            }
            rows.append(row)
        }
        var meta: JSONValue = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { meta["continue"] = .string(continueToken) }
        var table: JSONValue = ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "rows": .array(rows)]
        table["columnDefinitions"] = columns ? .array(strategy.columns.map(\.json)) : .array([])
        return table
    }
}
