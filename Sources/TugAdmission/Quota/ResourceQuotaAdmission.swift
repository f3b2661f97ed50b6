import Synchronization
public import TugAPI
public import TugAPIMachinery
public import TugAuth
public import TugRegistry
import TugStorage

/// The ResourceQuota admission plugin: a new object (or an update that adds usage) that would take its namespace
/// past a quota's `hard` limits is refused with upstream's `exceeded quota: …` message, and a pod without the requests or limits a compute quota
/// tracks with `failed quota: …`. Admitted objects are reserved until they are stored, so concurrent creates
/// cannot together overshoot a quota (upstream reserves by updating the quota's status; one server can keep the
/// reservations in memory).
public final class ResourceQuotaAdmission: AdmissionPlugin {
    struct Reservation {
        var resource: GroupResource
        var kind: String
        var usage: [String: Double]
    }

    /// Admitted objects not yet seen in the store, by storage key.
    let reserved = Mutex<[String: Reservation]>([:])

    public init() {}

    public func registrations(_ scheme: Scheme) -> [GroupResource: [any AdmissionPlugin]] {
        var out: [GroupResource: [any AdmissionPlugin]] = [:]
        for definition in scheme.definitions where definition.namespaced && definition.storageResource == nil {
            out[definition.groupResource] = [self]
        }
        return out
    }

    public func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?,
                      user: UserInfo?) throws(StatusError) {
        guard let quotaDefinition = store.definition(group: "", resource: "resourcequotas"),
              let listed = try? store.backend.list(prefix: StorageKeys.prefix(quotaDefinition, namespace: object.namespace)),
              !listed.items.isEmpty else { return }
        let quotas = listed.items.compactMap { try? store.decode($0) }
        let usage = QuotaUsage.usage(of: object, resource: d.groupResource)
        let key = StorageKeys.key(d, namespace: object.namespace, name: object.name)
        try reserved.withLock { reserved throws(StatusError) in
            for quota in quotas.sorted(by: { $0.name < $1.name }) where QuotaUsage.selects(quota, object, resource: d.groupResource) {
                let hard = quota["spec"]["hard"].stringMap
                let tracked = hard.keys.filter { usage[$0] != nil }.sorted()
                guard !tracked.isEmpty else { continue }
                // An update is charged what it adds (a Service turned LoadBalancer, a claim that grows, an object that
                // moves into the quota's scope); the stored old object is already counted as used.
                let counted = old.flatMap { QuotaUsage.selects(quota, $0, resource: d.groupResource) ? QuotaUsage.usage(of: $0, resource: d.groupResource) : nil } ?? [:]
                if old == nil, d.groupResource == GroupResource(group: "", resource: "pods") { try Self.requireResources(quota, hard: hard, pod: object) }
                var requested: [String] = [], used: [String] = [], limited: [String] = []
                for name in tracked {
                    guard let limit = hard[name].flatMap(Quantity.parse), let total = usage[name] else { continue }
                    let delta = total - (counted[name] ?? 0)
                    guard delta > 0 else { continue }
                    let current = Self.used(name, quota: quota, store: store, namespace: object.namespace, reserved: &reserved)
                    if current + delta > limit.milliValue {
                        let binary = QuotaUsage.binary(name)
                        requested.append("\(name)=\(Quantity(milli: delta).formatted(binary: binary))")
                        used.append("\(name)=\(Quantity(milli: current).formatted(binary: binary))")
                        limited.append("\(name)=\(hard[name] ?? "")")
                    }
                }
                if !requested.isEmpty {
                    throw .forbidden(d.groupResource, name: object.name, "exceeded quota: \(quota.name), requested: \(requested.joined(separator: ",")), "
                                     + "used: \(used.joined(separator: ",")), limited: \(limited.joined(separator: ","))")
                }
            }
            // Creates are reserved until stored; an update's object is in the store already (its growth is checked
            // against what is stored, without a reservation).
            if !dryRun, old == nil { reserved[key] = Reservation(resource: d.groupResource, kind: d.kind, usage: usage) }
        }
    }

    public func release(_ object: JSONValue) {
        // A failed create or a deletion: the object's reservation goes (keys end in namespace/name; the kind tells
        // resources apart).
        let suffix = "/\(object.namespace)/\(object.name)"
        reserved.withLock { reserved in
            for (key, reservation) in reserved where reservation.kind == object.kind && key.hasSuffix(suffix) { reserved.removeValue(forKey: key) }
        }
    }

    /// A compute quota needs every container to say what the quota counts: `failed quota: q: must specify
    /// requests.cpu for: c`.
    static func requireResources(_ quota: JSONValue, hard: [String: String], pod: JSONValue) throws(StatusError) {
        var missing: [String] = []
        let containers = ["initContainers", "containers"].flatMap { pod["spec"][$0].arrayValue ?? [] }
        for key in hard.keys.sorted() {
            let (field, name): (String, String)
            if key.hasPrefix("requests.") && key != "requests.storage" { (field, name) = ("requests", String(key.dropFirst("requests.".count))) }
            else if key.hasPrefix("limits.") { (field, name) = ("limits", String(key.dropFirst("limits.".count))) }
            else if key == "cpu" || key == "memory" { (field, name) = ("requests", key) }
            else { continue }
            let lacking = containers.filter { $0["resources"][field][name].isNull }.map { $0["name"].stringValue ?? "" }
            if !lacking.isEmpty { missing.append("\(key) for: \(lacking.joined(separator: ","))") }
        }
        if !missing.isEmpty {
            throw .forbidden(GroupResource(group: "", resource: "pods"), name: pod.name, "failed quota: \(quota.name): must specify \(missing.joined(separator: "; "))")
        }
    }

    /// What the namespace uses of `name` now: stored objects the quota selects, plus admitted ones not stored yet
    /// (reservations whose objects are stored are dropped on the way).
    static func used(_ name: String, quota: JSONValue, store: ObjectStore, namespace: String, reserved: inout [String: Reservation]) -> Double {
        guard let resource = QuotaUsage.resource(forKey: name), let definition = store.definition(group: resource.group, resource: resource.resource),
              let listed = try? store.backend.list(prefix: StorageKeys.prefix(definition, namespace: namespace)) else { return 0 }
        var total = 0.0
        var stored = Set<String>()
        for item in listed.items {
            stored.insert(item.key)
            guard let object = try? store.decode(item), QuotaUsage.selects(quota, object, resource: resource) else { continue }
            total += QuotaUsage.usage(of: object, resource: resource)[name] ?? 0
        }
        for (key, reservation) in reserved where reservation.resource == resource && key.hasPrefix(StorageKeys.prefix(definition, namespace: namespace)) {
            if stored.contains(key) { reserved.removeValue(forKey: key) } else { total += reservation.usage[name] ?? 0 }
        }
        return total
    }
}
