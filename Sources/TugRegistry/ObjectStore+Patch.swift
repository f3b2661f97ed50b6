public import TugAPI
public import TugAPIMachinery
public import TugAuth
import TugStorage

/// The four patch types of the PATCH verb.
public enum PatchType: String, Sendable {
    case json = "application/json-patch+json"
    case merge = "application/merge-patch+json"
    case strategic = "application/strategic-merge-patch+json"
    case apply = "application/apply-patch+yaml"
    case applyCBOR = "application/apply-patch+cbor"

    public init?(contentType: String) {
        let base = HeaderText.mediaType(contentType)
        guard let t = PatchType(rawValue: base), t != .applyCBOR else { return nil }
        self = t
    }
}

extension ObjectStore {
    /// Applies a patch with optimistic concurrency: on a storage conflict the patch is re-applied to the new state.
    /// Server-side apply creates the object when it does not exist.
    public func patch(_ d: ResourceDefinition, namespace: String, name: String, type: PatchType, body: [UInt8],
                      target: UpdateTarget = .main, schema: TypeSchema? = nil, fieldManager: String = "",
                      force: Bool = false, dryRun: Bool = false, user: UserInfo? = nil) async throws(StatusError) -> (JSONValue, created: Bool) {
        let patch = try Self.parsePatch(body, type: type)
        let schema = schema ?? d.schema
        for _ in 0..<8 {
            let stored: StoredObject
            do {
                stored = try get(d, namespace: namespace, name: name)
            } catch let error where error.reason == .notFound && type == .apply && target == .main {
                var object = StrategicMergePatch.removeDirectives(patch)
                if object.name.isEmpty { object.name = name }
                guard object.name == name else { throw .badRequest("the name of the object (\(object.name)) does not match the name on the URL (\(name))") }
                object["metadata"]["managedFields"] = FieldManager.created(object, manager: fieldManager, apiVersion: d.groupVersion, schema: schema, now: now)
                return (try await create(d, namespace: namespace, object: object, dryRun: dryRun, user: user), true)
            }
            let old = try decode(stored)
            var patched: JSONValue
            switch type {
            case .merge:
                patched = MergePatch.apply(patch, to: old)
            case .json:
                do { patched = try JSONPatch.apply(patch, to: old) } catch {
                    if error.tooLarge { throw .entityTooLarge(error.description) }
                    throw StatusError(code: 422, reason: .invalid, message: error.description)
                }
            case .strategic:
                do { patched = try StrategicMergePatch.apply(patch, to: old, schema: schema) } catch {
                    throw StatusError(code: 422, reason: .invalid, message: error.description)
                }
            case .apply:
                patched = try FieldManager.apply(patch, to: old, manager: fieldManager, apiVersion: d.groupVersion, schema: schema,
                                                 force: force, now: now)
            case .applyCBOR:
                throw .unsupportedMediaType(type.rawValue)
            }
            guard case .object = patched else { throw .badRequest("the patch did not produce an object") }
            // A resourceVersion in the patch is a precondition.
            if let rv = patch["metadata"]["resourceVersion"].stringValue, !rv.isEmpty, rv != String(stored.revision) {
                throw .conflict(d.groupResource, name: name)
            }
            let normalized = SchemaWalker.normalize(patched, schema: schema)
            if !normalized.typeErrors.isEmpty {
                throw .invalid(kind: d.kind, group: d.group, name: name, errors: FieldErrorList(normalized.typeErrors))
            }
            patched = normalized.value
            patched.resourceVersion = ""
            do {
                return (try await write(d, old: old, oldRevision: stored.revision, new: patched, target: target, dryRun: dryRun, user: user), false)
            } catch let error where error.reason == .conflict && patch["metadata"]["resourceVersion"].isNull {
                continue
            }
        }
        throw .conflict(d.groupResource, name: name)
    }

    static func parsePatch(_ body: [UInt8], type: PatchType) throws(StatusError) -> JSONValue {
        do {
            if type == .apply {
                guard let text = String(validating: body, as: UTF8.self) else { throw StatusError.badRequest("patch body is not valid UTF-8") }
                return try YAMLDecoding.decode(text)
            }
            return try JSONParser.parseValue(body)
        } catch let e as StatusError {
            throw e
        } catch {
            throw .badRequest("error decoding patch: \(error)")
        }
    }
}
