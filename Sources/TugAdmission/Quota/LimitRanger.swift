import Foundation
public import TugAPI
public import TugAPIMachinery
public import TugAuth
public import TugRegistry

/// The LimitRanger admission plugin: a new pod's containers get the default limits and requests of the
/// namespace's LimitRanges (noted in the `kubernetes.io/limit-ranger` annotation), then every Container, Pod and
/// PersistentVolumeClaim bound (min, max, maxLimitRequestRatio) is checked, with upstream's messages.
public struct LimitRanger: AdmissionPlugin {
    public init() {}

    public func registrations() -> [GroupResource: [any AdmissionPlugin]] {
        [GroupResource(group: "", resource: "pods"): [self], GroupResource(group: "", resource: "persistentvolumeclaims"): [self]]
    }

    public func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?,
                      user: UserInfo?) throws(StatusError) {
        guard old == nil, let ranges = store.definition(group: "", resource: "limitranges"),
              let listed = try? store.backend.list(prefix: StorageKeys.prefix(ranges, namespace: object.namespace)), !listed.items.isEmpty else { return }
        let items = listed.items.compactMap { try? store.decode($0) }.flatMap { $0["spec"]["limits"].arrayValue ?? [] }
        var errors: [String] = []
        if d.resource == "pods" {
            applyDefaults(items.filter { $0["type"].stringValue == "Container" }, to: &object)
            for item in items { errors += Self.check(item, pod: object) }
        } else {
            let requested = object["spec"]["resources"]["requests"], limited = object["spec"]["resources"]["limits"]
            for item in items where item["type"].stringValue == "PersistentVolumeClaim" {
                errors += Self.bounds(item, requests: requested.stringMap, limits: limited.stringMap, kind: "PersistentVolumeClaim", ratio: false)
            }
        }
        guard errors.isEmpty else {
            throw .forbidden(d.groupResource, name: object.name, errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]")
        }
    }

    /// Default limits and requests for every container that lacks them, as the annotation records.
    func applyDefaults(_ items: [JSONValue], to pod: inout JSONValue) {
        var notes: [String] = []
        for list in ["initContainers", "containers"] {
            guard var containers = pod["spec"][list].arrayValue else { continue }
            for i in containers.indices {
                var setRequests: [String] = [], setLimits: [String] = []
                for item in items {
                    for (key, value) in item["default"].stringMap.sorted(by: { $0.key < $1.key }) where containers[i]["resources"]["limits"][key].isNull {
                        containers[i]["resources"]["limits"][key] = .string(value)
                        setLimits.append(key)
                    }
                    for (key, value) in item["defaultRequest"].stringMap.sorted(by: { $0.key < $1.key })
                    where containers[i]["resources"]["requests"][key].isNull {
                        containers[i]["resources"]["requests"][key] = .string(value)
                        setRequests.append(key)
                    }
                }
                let name = containers[i]["name"].stringValue ?? ""
                if !setRequests.isEmpty { notes.append("\(setRequests.joined(separator: ", ")) request for \(list == "initContainers" ? "init container" : "container") \(name)") }
                if !setLimits.isEmpty { notes.append("\(setLimits.joined(separator: ", ")) limit for \(list == "initContainers" ? "init container" : "container") \(name)") }
            }
            pod["spec"][list] = .array(containers)
        }
        if !notes.isEmpty { pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] = .string("LimitRanger plugin set: " + notes.joined(separator: "; ")) }
    }

    static func check(_ item: JSONValue, pod: JSONValue) -> [String] {
        switch item["type"].stringValue {
        case "Container":
            return ["initContainers", "containers"].flatMap { pod["spec"][$0].arrayValue ?? [] }.flatMap { c in
                bounds(item, requests: c["resources"]["requests"].stringMap, limits: c["resources"]["limits"].stringMap, kind: "Container", ratio: true)
            }
        case "Pod":
            let totals = QuotaUsage.podTotals(pod["spec"])
            return bounds(item, requests: totals.requests, limits: totals.limits, kind: "Pod", ratio: true)
        default:
            return []
        }
    }

    /// min, max and maxLimitRequestRatio of one item against requests and limits (quantity strings).
    static func bounds(_ item: JSONValue, requests: [String: String], limits: [String: String], kind: String, ratio: Bool) -> [String] {
        var errors: [String] = []
        for (key, bound) in item["min"].stringMap.sorted(by: { $0.key < $1.key }) {
            guard let request = requests[key] else { errors.append("minimum \(key) usage per \(kind) is \(bound).  No request is specified"); continue }
            if let r = Quantity.parse(request), let b = Quantity.parse(bound), r < b {
                errors.append("minimum \(key) usage per \(kind) is \(bound), but request is \(request)")
            }
        }
        for (key, bound) in item["max"].stringMap.sorted(by: { $0.key < $1.key }) {
            let limit = kind == "PersistentVolumeClaim" ? requests[key] : limits[key]
            guard let limit else {
                errors.append("maximum \(key) usage per \(kind) is \(bound).  No \(kind == "PersistentVolumeClaim" ? "request" : "limit") is specified")
                continue
            }
            if let l = Quantity.parse(limit), let b = Quantity.parse(bound), l > b {
                errors.append("maximum \(key) usage per \(kind) is \(bound), but \(kind == "PersistentVolumeClaim" ? "request" : "limit") is \(limit)")
            }
        }
        guard ratio else { return errors }
        for (key, bound) in item["maxLimitRequestRatio"].stringMap.sorted(by: { $0.key < $1.key }) {
            guard let limit = limits[key].flatMap(Quantity.parse) else {
                errors.append("\(key) max limit to request ratio per \(kind) is \(bound), but no limit is specified"); continue
            }
            guard let request = requests[key].flatMap(Quantity.parse), !request.isZero else {
                errors.append("\(key) max limit to request ratio per \(kind) is \(bound), but no request is specified or request is 0"); continue
            }
            let provided = limit.milliValue / request.milliValue
            if let b = Quantity.parse(bound), provided > b.milliValue / 1000 {
                errors.append("\(key) max limit to request ratio per \(kind) is \(bound), but provided ratio is \(String(format: "%.6f", provided))")
            }
        }
        return errors
    }
}
