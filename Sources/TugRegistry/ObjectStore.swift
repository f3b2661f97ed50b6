public import Foundation
import Logging
public import TugAPI
public import TugAPIMachinery
public import TugAuth
public import TugStorage

/// The generic resource store behind every REST verb: strategy calls, metadata bookkeeping, CAS and Status errors.
///
/// Kind-specific behaviour lives in the `ResourceStrategy` of each definition and in `AdmissionHooks` (allocation of
/// cluster IPs and node ports, namespace existence); this type never switches over kinds.
public final class ObjectStore: Sendable {
    public let scheme: Scheme
    public let backend: any StorageBackend
    let hooks: AdmissionHooks
    public let serviceNetwork: ServiceNetwork
    /// Who may do what: the API server authorizes every request with it, and RBAC writes are checked against it
    /// for escalation.
    public let authorization: ClusterAuthorization
    let clock: @Sendable () -> Date

    public init(scheme: Scheme, backend: any StorageBackend, serviceNetwork: ServiceNetwork = .default,
                authorization: ClusterAuthorization = ClusterAuthorization(), admission: [GroupResource: [any AdmissionPlugin]] = [:],
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.scheme = scheme
        self.backend = backend
        self.clock = clock
        self.authorization = authorization
        self.hooks = AdmissionHooks(serviceNetwork: serviceNetwork, authorization: authorization, extra: admission)
        self.serviceNetwork = serviceNetwork
        authorization.node.connect(StoreNodeRelations(store: self))
    }

    public var now: Date { clock() }

    public func definition(group: String, resource: String) -> ResourceDefinition? {
        scheme.storageDefinition(group: group, resource: resource)
    }

    // MARK: Reads

    public func get(_ d: ResourceDefinition, namespace: String, name: String) throws(StatusError) -> StoredObject {
        guard let stored = backend.get(key: StorageKeys.key(d, namespace: namespace, name: name)) else {
            throw .notFound(d.groupResource, name: name)
        }
        return stored
    }

    public func getObject(_ d: ResourceDefinition, namespace: String, name: String) throws(StatusError) -> JSONValue {
        try decode(try get(d, namespace: namespace, name: name))
    }

    public func decode(_ stored: StoredObject) throws(StatusError) -> JSONValue {
        do { return try JSONParser.parseValue(stored.value) } catch { throw .internalError("stored object \(stored.key) is corrupt: \(error)") }
    }

    public struct ListResult: Sendable {
        public var items: [StoredObject]
        public var revision: Int64
        public var continueToken: String?
        public var remaining: Int64?
    }

    public func list(_ d: ResourceDefinition, namespace: String?, labels: LabelSelector, fields: FieldSelector,
                     limit: Int? = nil, continueToken: String? = nil) throws(StatusError) -> ListResult {
        var startAfter: String?
        if let continueToken, !continueToken.isEmpty {
            guard let decoded = ContinueToken.decode(continueToken) else {
                throw .badRequest("invalid continue token")
            }
            startAfter = decoded.key
        }
        let prefix = StorageKeys.prefix(d, namespace: namespace)
        let pageSize = limit.flatMap { $0 > 0 ? $0 : nil }
        let matches = { (object: StoredObject) -> Bool in
            labels.matches({ object.attributes.labels[$0] }) && fields.matches({ object.attributes.fields[$0] })
        }
        let page: ScanPage
        if let indexed = indexedCandidates(prefix: prefix, fields: fields) {
            let candidates = indexed.items.filter { object in startAfter.map { object.key > $0 } ?? true }
            var items: [StoredObject] = []
            var i = 0
            while i < candidates.count, pageSize.map({ items.count < $0 }) ?? true {
                if matches(candidates[i]) { items.append(candidates[i]) }
                i += 1
            }
            page = ScanPage(items: items, revision: indexed.revision, remaining: candidates.count - i)
        } else {
            page = backend.scan(prefix: prefix, after: startAfter, limit: pageSize, where: matches)
        }
        // As upstream: a page that stops before the end carries a continue token; how many remain is told only
        // without selectors (with one, the rest is not read to count matches).
        guard page.remaining > 0, let last = page.items.last else {
            return ListResult(items: page.items, revision: page.revision, continueToken: nil, remaining: nil)
        }
        let selected = !labels.isEmpty || !fields.isEmpty
        return ListResult(items: page.items, revision: page.revision, continueToken: ContinueToken(revision: page.revision, key: last.key).encode(),
                          remaining: selected ? nil : Int64(page.remaining))
    }

    /// The objects a field selector's indexed equality picks out, from the index, when it has one.
    func indexedCandidates(prefix: String, fields: FieldSelector) -> (items: [StoredObject], revision: Int64)? {
        for r in fields.requirements where !r.negated {
            if let indexed = backend.list(prefix: prefix, field: r.field, value: r.value) { return indexed }
        }
        return nil
    }

    /// The objects under `prefix`, read from a field index when `fields` selects an indexed field by equality (the
    /// selector is still applied in full by the caller).
    func current(prefix: String, fields: FieldSelector) -> (items: [StoredObject], revision: Int64) {
        indexedCandidates(prefix: prefix, fields: fields) ?? backend.list(prefix: prefix)
    }

    /// Where a watch begins: after a revision, at the current state (sent first as synthetic ADDED events), or now.
    public enum WatchOrigin: Sendable, Equatable {
        case after(Int64)
        case currentState
        case now
    }

    /// A watch of the objects under the definition (and namespace); with `fields`, its first equality is the
    /// watch's trigger, so the store hands it only the events that can match (the caller filters in full). Returns
    /// the stream, the current objects when the origin asks for them, and the revision the stream starts after.
    public func watch(_ d: ResourceDefinition, namespace: String?, from origin: WatchOrigin, labels: LabelSelector = LabelSelector(),
                      fields: FieldSelector = FieldSelector()) throws(StatusError) -> (stream: WatchStream, initial: [StoredObject], revision: Int64) {
        let prefix = StorageKeys.prefix(d, namespace: namespace)
        let trigger = fields.requirements.first { !$0.negated }.map { WatchTrigger(field: $0.field, value: $0.value) }
        // The selectors are checked where events are published, so a watcher wakes only for events it sends.
        let filter = labels.isEmpty && fields.isEmpty ? nil : WatchFilter { attributes in
            labels.matches({ attributes.labels[$0] }) && fields.matches({ attributes.fields[$0] })
        }
        var initial: [StoredObject] = []
        let revision: Int64
        switch origin {
        case .after(let after): revision = after
        case .now: revision = backend.currentRevision
        case .currentState: (initial, revision) = current(prefix: prefix, fields: fields)
        }
        do {
            return (try backend.watch(prefix: prefix, after: revision, bufferLimit: 10_000, trigger: trigger, filter: filter), initial, revision)
        } catch let StorageError.compacted(requested, compacted) {
            throw .expired("too old resource version: \(requested) (\(compacted))")
        } catch {
            throw .internalError("\(error)")
        }
    }

    // MARK: Encoding

    /// The largest stored object, in bytes of JSON: etcd's default request limit, which upstream clusters enforce.
    public static let maxObjectBytes = 1_572_864

    /// The stored bytes of `object` at the revision the store assigns. The object is encoded here, before the
    /// write reaches the store; under the store's lock only the revision is stamped in.
    func encoder(_ object: JSONValue) -> @Sendable (Int64) throws -> [UInt8] {
        guard let template = ResourceVersionTemplate(object) else {
            return { revision in try Self.checkedSize(JSONWriter.exactBytes(Self.written(object, stored: revision))) }
        }
        return { revision in try Self.checkedSize(template.stamped(revision)) }
    }

    static func checkedSize(_ bytes: [UInt8]) throws(StatusError) -> [UInt8] {
        guard bytes.count <= maxObjectBytes else {
            throw .entityTooLarge("the object is \(bytes.count) bytes; at most \(maxObjectBytes) bytes can be stored")
        }
        return bytes
    }

    /// The object as `encoder` stored it at `revision`: what a write returns, without parsing back what it wrote.
    static func written(_ object: JSONValue, stored revision: Int64) -> JSONValue {
        var o = object
        o.resourceVersion = String(revision)
        return o
    }

    func mapStorage(_ error: any Error, _ d: ResourceDefinition, name: String) -> StatusError {
        switch error {
        case let e as StatusError: return e
        case StorageError.keyExists: return .alreadyExists(d.groupResource, name: name)
        case StorageError.notFound: return .notFound(d.groupResource, name: name)
        case StorageError.conflict: return .conflict(d.groupResource, name: name)
        case StorageError.unavailable(let why): return .serviceUnavailable(why)
        default: return .internalError("\(error)")
        }
    }

    // MARK: Create

    public func create(_ d: ResourceDefinition, namespace: String, object input: JSONValue, dryRun: Bool = false,
                       user: UserInfo? = nil) async throws(StatusError) -> JSONValue {
        var object = input
        object.kind = d.kind
        object.apiVersion = d.groupVersion
        if d.namespaced {
            if object.namespace.isEmpty { object.namespace = namespace }
            if object.namespace != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            try hooks.checkNamespaceAcceptsContent(self, namespace: namespace, resource: d)
        } else {
            object.namespace = ""
        }
        let generated = object.name.isEmpty && !object.generateName.isEmpty
        if generated {
            object.name = NameGenerator.generate(base: object.generateName)
        }
        if object.name.isEmpty {
            throw StatusError.invalid(kind: d.kind, group: d.group, name: "", errors: FieldErrorList([FieldError(.required, field: "metadata.name", detail: "name or generateName is required")]))
        }
        object.uid = UUID().uuidString.lowercased()
        object.creationTimestamp = KubeTime.format(now)
        object.resourceVersion = ""
        object["metadata"]["selfLink"] = .null
        object["metadata"]["deletionTimestamp"] = .null
        object["metadata"]["deletionGracePeriodSeconds"] = .null
        object.generation = d.strategy.tracksGeneration ? 1 : 0
        d.strategy.prepareForCreate(&object)
        d.strategy.applyDefaults(&object)
        // A kind with a status starts from an empty one, as upstream's objects do (their status struct is never
        // omitted): clients read `status` of a new object without checking for it.
        if d.hasStatus, object["status"].isNull { object["status"] = .emptyObject }
        var errors = MetadataValidation.validate(object, definition: d)
        errors.append(contentsOf: d.strategy.validate(object))
        if !errors.isEmpty { throw .invalid(kind: d.kind, group: d.group, name: object.name, errors: errors) }
        try hooks.allocate(self, &object, definition: d, dryRun: dryRun, user: user)
        if dryRun {
            if backend.get(key: StorageKeys.key(d, namespace: object.namespace, name: object.name)) != nil {
                throw .alreadyExists(d.groupResource, name: object.name)
            }
            return object
        }
        // A generated name that is taken is generated again, up to 8 tries (upstream's RetryGenerateName): five
        // random characters collide often enough at tens of thousands of pods per ReplicaSet.
        var attempts = 1
        while true {
            do {
                let stored = try await backend.create(key: StorageKeys.key(d, namespace: object.namespace, name: object.name),
                                                      attributes: StorageKeys.attributes(object, definition: d), encode: encoder(object))
                return Self.written(object, stored: stored.revision)
            } catch {
                let failure = mapStorage(error, d, name: object.name)
                if generated, failure.reason == .alreadyExists, attempts < 8 {
                    attempts += 1
                    object.name = NameGenerator.generate(base: object.generateName)
                    continue
                }
                hooks.release(object, definition: d)
                throw failure
            }
        }
    }

    // MARK: Update

    public enum UpdateTarget: Sendable { case main, status }

    /// Replaces an object (PUT). A non-empty `resourceVersion` in the body must match the stored one.
    public func update(_ d: ResourceDefinition, namespace: String, name: String, object input: JSONValue,
                       target: UpdateTarget = .main, dryRun: Bool = false, user: UserInfo? = nil) async throws(StatusError) -> JSONValue {
        let stored = try get(d, namespace: namespace, name: name)
        let old = try decode(stored)
        if !input.resourceVersion.isEmpty, input.resourceVersion != String(stored.revision) {
            throw .conflict(d.groupResource, name: name)
        }
        return try await write(d, old: old, oldRevision: stored.revision, new: input, target: target, dryRun: dryRun, user: user)
    }

    /// The shared tail of update and patch: bookkeeping, strategy, validation, CAS write, finalizer completion.
    func write(_ d: ResourceDefinition, old: JSONValue, oldRevision: Int64, new input: JSONValue,
               target: UpdateTarget, dryRun: Bool, user: UserInfo?) async throws(StatusError) -> JSONValue {
        var object = input
        if !input.name.isEmpty, input.name != old.name {
            throw .badRequest("the name of the object (\(input.name)) does not match the name on the URL (\(old.name))")
        }
        if d.namespaced, !input.namespace.isEmpty, input.namespace != old.namespace {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        object.kind = d.kind
        object.apiVersion = d.groupVersion
        // System-owned metadata always comes from the stored object.
        for key in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink"] {
            object["metadata"][key] = old["metadata"][key]
        }
        switch target {
        case .status:
            var merged = old
            merged["status"] = object["status"]
            object = merged
        case .main:
            if d.hasStatus { d.strategy.prepareForUpdate(&object, old: old) }
        }
        d.strategy.applyDefaults(&object)
        if d.strategy.tracksGeneration, target == .main, Self.specChanged(object, old) {
            object.generation = old.generation + 1
        }
        var errors = MetadataValidation.validate(object, definition: d)
        errors.append(contentsOf: d.strategy.validateUpdate(object, old: old))
        if !errors.isEmpty { throw .invalid(kind: d.kind, group: d.group, name: old.name, errors: errors) }
        try hooks.allocate(self, &object, definition: d, dryRun: dryRun, old: old, user: user)
        let key = StorageKeys.key(d, namespace: old.namespace, name: old.name)
        object.resourceVersion = ""
        var comparable = old
        comparable.resourceVersion = ""
        if object == comparable {
            // A no-op write keeps the resourceVersion, as the real API server does.
            var unchanged = object
            unchanged.resourceVersion = String(oldRevision)
            return unchanged
        }
        if dryRun { object.resourceVersion = String(oldRevision); return object }
        do {
            // A graceful deletion (grace period > 0) is completed by its owner (a pod's node agent), not by the last
            // finalizer going away.
            let graceful = (object["metadata"]["deletionGracePeriodSeconds"].intValue ?? 0) > 0
            if object.deletionTimestamp != nil, object.finalizers.isEmpty, !graceful {
                // The last finalizer is gone: the pending deletion completes now.
                let tombstone = try await backend.delete(key: key, expectedRevision: oldRevision, encode: encoder(object))
                hooks.release(object, definition: d)
                return Self.written(object, stored: tombstone.revision)
            }
            let stored = try await backend.update(key: key, expectedRevision: oldRevision, attributes: StorageKeys.attributes(object, definition: d), encode: encoder(object))
            return Self.written(object, stored: stored.revision)
        } catch {
            throw mapStorage(error, d, name: old.name)
        }
    }

    static func specChanged(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func strip(_ v: JSONValue) -> JSONValue {
            var o = v
            o["metadata"] = .null
            o["status"] = .null
            o["kind"] = .null
            o["apiVersion"] = .null
            return o
        }
        return strip(a) != strip(b)
    }
}

/// The `continue` token: base64 JSON `{"rv":N,"start":"key"}`.
struct ContinueToken {
    var revision: Int64
    var key: String

    func encode() -> String {
        Base64.encode(JSONWriter.bytes(["rv": .int(revision), "start": .string(key)]))
    }

    static func decode(_ token: String) -> ContinueToken? {
        guard let bytes = Base64.decode(token), let value = try? JSONParser.parseValue(bytes),
              let key = value["start"].stringValue, let rv = value["rv"].intValue else { return nil }
        return ContinueToken(revision: rv, key: key)
    }
}

/// `generateName` suffixes: five characters from Kubernetes' unambiguous alphabet.
enum NameGenerator {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    static func generate(base: String) -> String {
        let trimmed = base.count > 58 ? String(base.prefix(58)) : base
        return trimmed + String((0..<5).map { _ in alphabet.randomElement() ?? "x" })
    }
}
