import TugAPI
import TugAPIMachinery
import TugAuth

/// The Priority admission plugin, on pod creation: `priorityClassName` becomes `spec.priority` and
/// `spec.preemptionPolicy` from that PriorityClass (403 when it does not exist); without a name the global default
/// class applies, or priority 0.
struct PriorityAdmission: AdmissionPlugin {
    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?, user: UserInfo?) throws(StatusError) {
        guard old == nil, case .object = object["spec"],
              let pcs = store.scheme.resource(group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses") else { return }
        var value: Int64 = 0
        var policy = "PreemptLowerPriority"
        if let name = object["spec"]["priorityClassName"].stringValue, !name.isEmpty {
            guard let stored = store.backend.get(key: StorageKeys.key(pcs, namespace: "", name: name)), let pc = try? store.decode(stored) else {
                throw .forbidden(d.groupResource, name: object.name, "no PriorityClass with name \(name) was found")
            }
            value = pc["value"].intValue ?? 0
            policy = pc["preemptionPolicy"].stringValue ?? policy
        } else if let pc = store.backend.list(prefix: StorageKeys.prefix(pcs, namespace: nil)).items.lazy
                    .compactMap({ try? store.decode($0) }).first(where: { $0["globalDefault"].boolValue == true }) {
            value = pc["value"].intValue ?? 0
            policy = pc["preemptionPolicy"].stringValue ?? policy
        }
        if let given = object["spec"]["priority"].intValue, given != value {
            throw .forbidden(d.groupResource, name: object.name,
                             "the integer value of priority (\(given)) must not be provided in pod spec; priority admission controller computed \(value) from the given PriorityClass name")
        }
        object["spec"]["priority"] = .int(value)
        if object["spec"]["preemptionPolicy"].isNull { object["spec"]["preemptionPolicy"] = .string(policy) }
    }

    func release(_ object: JSONValue) {}
}
