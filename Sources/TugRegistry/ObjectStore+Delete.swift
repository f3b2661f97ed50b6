import Foundation
public import TugAPI
public import TugAPIMachinery
public import TugAuth
import TugStorage

extension ObjectStore {
    public struct DeleteOptions: Sendable {
        public var gracePeriodSeconds: Int64?
        public var propagationPolicy: String?
        public var preconditionUID: String?
        public var preconditionResourceVersion: String?
        public var dryRun = false
        /// Who asks (for admission: a node may delete only what is its own); nil for the server's own deletes.
        public var user: UserInfo?

        public init() {}

        public init(json: JSONValue) throws(StatusError) {
            if let g = json["gracePeriodSeconds"].intValue { gracePeriodSeconds = g } else if json["gracePeriodSeconds"] != .null {
                throw .badRequest("gracePeriodSeconds must be an integer")
            }
            propagationPolicy = json["propagationPolicy"].stringValue
            if json["orphanDependents"].boolValue == true { propagationPolicy = "Orphan" }
            if let p = propagationPolicy, !["Orphan", "Background", "Foreground"].contains(p) {
                throw .badRequest("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(p)\": supported values: \"Foreground\", \"Background\", \"Orphan\"")
            }
            preconditionUID = json["preconditions"]["uid"].stringValue
            preconditionResourceVersion = json["preconditions"]["resourceVersion"].stringValue
            dryRun = (json["dryRun"].arrayValue ?? []).contains("All")
        }
    }

    public enum DeleteOutcome: Sendable {
        /// The object is gone; the value is its final state.
        case deleted(JSONValue)
        /// Deletion is pending (finalizers or graceful termination); the value is the updated object.
        case pending(JSONValue)
    }

    /// The finalizer the garbage collector honours for each propagation policy.
    static let propagationFinalizers = ["Foreground": "foregroundDeletion", "Orphan": "orphan"]

    public func delete(_ d: ResourceDefinition, namespace: String, name: String, options: DeleteOptions = .init()) async throws(StatusError) -> DeleteOutcome {
        for _ in 0..<8 {
            let stored = try get(d, namespace: namespace, name: name)
            var object = try decode(stored)
            if let uid = options.preconditionUID, uid != object.uid {
                throw .conflict(d.groupResource, name: name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid)")
            }
            if let rv = options.preconditionResourceVersion, rv != String(stored.revision) {
                throw .conflict(d.groupResource, name: name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(stored.revision)")
            }
            if let user = options.user { try hooks.admitDelete(self, object, definition: d, user: user) }
            let key = StorageKeys.key(d, namespace: object.namespace, name: name)
            let grace = d.strategy.gracePeriod(object, requested: options.gracePeriodSeconds)
            // Foreground and Orphan deletions wait for the garbage collector: it deletes the dependents (or removes
            // their owner references) and then this finalizer. Objects deleted gracefully by their node (pods) own
            // nothing, so for them every policy is the same and no finalizer is added.
            var finalizers = object.finalizers
            if grace == 0, object.deletionTimestamp == nil, let policy = options.propagationPolicy, let finalizer = Self.propagationFinalizers[policy],
               !finalizers.contains(finalizer) {
                finalizers.append(finalizer)
            }
            var marked = object
            let finalized = d.strategy.beginFinalizedDeletion(&marked)
            if !finalizers.isEmpty || grace > 0 || finalized {
                let current = object["metadata"]["deletionGracePeriodSeconds"].intValue ?? 0
                if object.deletionTimestamp != nil, object.finalizers == finalizers, grace >= current {
                    // Already terminating: a repeated delete changes nothing unless it shortens the grace period
                    // (the node's final delete sets it to 0, so removing the last finalizer then completes it).
                    return .pending(object)
                }
                let shortened = object.deletionTimestamp != nil && grace < current
                object = marked
                object.finalizers = finalizers
                if object.deletionTimestamp == nil || shortened { object.deletionTimestamp = KubeTime.format(now.addingTimeInterval(Double(grace))) }
                object["metadata"]["deletionGracePeriodSeconds"] = .int(grace)
                if options.dryRun { return .pending(object) }
                do {
                    let updated = try await backend.update(key: key, expectedRevision: stored.revision,
                                                           attributes: StorageKeys.attributes(object, definition: d), encode: encoder(object))
                    return .pending(Self.written(object, stored: updated.revision))
                } catch StorageError.conflict {
                    continue
                } catch {
                    throw mapStorage(error, d, name: name)
                }
            }
            if options.dryRun { return .deleted(object) }
            do {
                let tombstone = try await backend.delete(key: key, expectedRevision: stored.revision, encode: encoder(object))
                hooks.release(object, definition: d)
                return .deleted(Self.written(object, stored: tombstone.revision))
            } catch StorageError.conflict {
                continue
            } catch {
                throw mapStorage(error, d, name: name)
            }
        }
        throw .conflict(d.groupResource, name: name)
    }
}

extension ObjectStore {
    /// Writes an object whose spec the caller changed on purpose (binding, namespace finalize), bypassing the
    /// main-resource update rules but keeping CAS on the revision read.
    public func replaceUnchecked(_ d: ResourceDefinition, stored: StoredObject, object: JSONValue) async throws(StatusError) -> JSONValue {
        do {
            let updated = try await backend.update(key: stored.key, expectedRevision: stored.revision,
                                                   attributes: StorageKeys.attributes(object, definition: d), encode: encoder(object))
            return Self.written(object, stored: updated.revision)
        } catch {
            throw mapStorage(error, d, name: object.name)
        }
    }
}
