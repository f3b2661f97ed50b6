import TugAPI
import TugAPIMachinery
import TugAuth

/// The DefaultTolerationSeconds admission plugin: a new pod that does not say otherwise tolerates its node being
/// not-ready or unreachable for 300 seconds, after which the taint eviction controller removes it (and its owner
/// replaces it elsewhere).
struct DefaultTolerationSeconds: AdmissionPlugin {
    static let seconds: Int64 = 300
    static let keys = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]

    func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?, user: UserInfo?) throws(StatusError) {
        guard old == nil, case .object = object["spec"] else { return }
        var tolerations = object["spec"]["tolerations"].arrayValue ?? []
        for key in Self.keys {
            let covered = tolerations.contains { t in
                let effect = t["effect"].stringValue ?? ""
                let tKey = t["key"].stringValue ?? ""
                return (effect.isEmpty || effect == "NoExecute") && (tKey == key || (tKey.isEmpty && t["operator"].stringValue == "Exists"))
            }
            if !covered {
                tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": .int(Self.seconds)])
            }
        }
        object["spec"]["tolerations"] = .array(tolerations)
    }

    func release(_ object: JSONValue) {}
}
