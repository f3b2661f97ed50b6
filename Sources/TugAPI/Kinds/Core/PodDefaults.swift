public import TugAPIMachinery

/// Kubernetes' defaulting for PodSpec (core/v1 `SetDefaults_*`), shared by pods and every pod template.
public enum PodDefaults {
    public static func apply(spec: inout JSONValue) {
        guard case .object = spec else { return }
        setIfAbsent(&spec, "restartPolicy", "Always")
        setIfAbsent(&spec, "dnsPolicy", "ClusterFirst")
        setIfAbsent(&spec, "schedulerName", "default-scheduler")
        setIfAbsent(&spec, "terminationGracePeriodSeconds", 30)
        setIfAbsent(&spec, "securityContext", .emptyObject)
        setIfAbsent(&spec, "enableServiceLinks", true)
        for list in ["containers", "initContainers"] {
            guard case .array(var containers) = spec[list] else { continue }
            for i in containers.indices { applyContainer(&containers[i]) }
            spec[list] = .array(containers)
        }
        if case .array(var volumes) = spec["volumes"] {
            for i in volumes.indices {
                if case .object = volumes[i]["secret"] { setIfAbsent(&volumes[i]["secret"], "defaultMode", 420) }
                if case .object = volumes[i]["configMap"] { setIfAbsent(&volumes[i]["configMap"], "defaultMode", 420) }
                if case .object = volumes[i]["hostPath"] { setIfAbsent(&volumes[i]["hostPath"], "type", "") }
                let sources = volumes[i].objectValue?.keys.filter { $0 != "name" } ?? []
                if sources.isEmpty { volumes[i]["emptyDir"] = .emptyObject }
            }
            spec["volumes"] = .array(volumes)
        }
    }

    static func applyContainer(_ c: inout JSONValue) {
        setIfAbsent(&c, "terminationMessagePath", "/dev/termination-log")
        setIfAbsent(&c, "terminationMessagePolicy", "File")
        if c["imagePullPolicy"].isNull {
            c["imagePullPolicy"] = .string(pullPolicy(for: c["image"].stringValue ?? ""))
        }
        setIfAbsent(&c, "resources", .emptyObject)
        if case .array(var ports) = c["ports"] {
            for i in ports.indices { setIfAbsent(&ports[i], "protocol", "TCP") }
            c["ports"] = .array(ports)
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] where c[probe] != .null {
            setIfAbsent(&c[probe], "timeoutSeconds", 1)
            setIfAbsent(&c[probe], "periodSeconds", 10)
            setIfAbsent(&c[probe], "successThreshold", 1)
            setIfAbsent(&c[probe], "failureThreshold", 3)
            if c[probe]["httpGet"] != .null { setIfAbsent(&c[probe]["httpGet"], "scheme", "HTTP") }
        }
        if case .array(var env) = c["env"] {
            for i in env.indices where env[i]["valueFrom"]["fieldRef"] != .null {
                setIfAbsent(&env[i]["valueFrom"]["fieldRef"], "apiVersion", "v1")
            }
            c["env"] = .array(env)
        }
    }

    /// `Always` for `:latest` or untagged images, else `IfNotPresent`; digests count as tagged.
    public static func pullPolicy(for image: String) -> String {
        if image.contains("@") { return "IfNotPresent" }
        let lastComponent = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastComponent.lastIndex(of: ":") else { return "Always" }
        return lastComponent[lastComponent.index(after: colon)...] == "latest" ? "Always" : "IfNotPresent"
    }

    public static func setIfAbsent(_ object: inout JSONValue, _ key: String, _ value: JSONValue) {
        if object[key].isNull { object[key] = value }
    }
}

/// Validation of PodSpec shared by pods and templates (`field` is the path prefix, e.g. `spec.template.spec`).
public enum PodValidation {
    static let restartPolicies = ["Always", "OnFailure", "Never"]
    static let dnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
    static let pullPolicies = ["Always", "IfNotPresent", "Never"]
    static let protocols = ["SCTP", "TCP", "UDP"]

    public static func validate(spec: JSONValue, field: String) -> FieldErrorList {
        var errors = FieldErrorList()
        let containers = spec["containers"].arrayValue ?? []
        if containers.isEmpty { errors.required("\(field).containers") }
        var names = Set<String>()
        for (list, items) in [("initContainers", spec["initContainers"].arrayValue ?? []), ("containers", containers)] {
            for (i, c) in items.enumerated() {
                let path = "\(field).\(list)[\(i)]"
                let name = c["name"].stringValue ?? ""
                if name.isEmpty {
                    errors.required("\(path).name")
                } else if !NameValidation.isDNS1123Label(name) {
                    errors.invalid("\(path).name", .string(name), NameValidation.dns1123LabelMessage)
                } else if !names.insert(name).inserted {
                    errors.append(FieldError(.duplicate, field: "\(path).name", value: .string(name)))
                }
                if (c["image"].stringValue ?? "").isEmpty { errors.required("\(path).image") }
                if let policy = c["imagePullPolicy"].stringValue, !pullPolicies.contains(policy) {
                    errors.append(FieldError(.notSupported(pullPolicies), field: "\(path).imagePullPolicy", value: .string(policy)))
                }
                for (j, port) in (c["ports"].arrayValue ?? []).enumerated() {
                    let p = port["containerPort"].intValue ?? 0
                    if !(1...65535).contains(p) {
                        errors.invalid("\(path).ports[\(j)].containerPort", .int(p), "must be between 1 and 65535, inclusive")
                    }
                    if let proto = port["protocol"].stringValue, !protocols.contains(proto) {
                        errors.append(FieldError(.notSupported(protocols), field: "\(path).ports[\(j)].protocol", value: .string(proto)))
                    }
                }
                for (j, env) in (c["env"].arrayValue ?? []).enumerated() {
                    if (env["name"].stringValue ?? "").isEmpty { errors.required("\(path).env[\(j)].name") }
                    validateResourceField(env["valueFrom"]["resourceFieldRef"], field: "\(path).env[\(j)].valueFrom.resourceFieldRef", errors: &errors)
                }
                validateResources(c["resources"], field: "\(path).resources", errors: &errors)
            }
        }
        if let policy = spec["restartPolicy"].stringValue, !restartPolicies.contains(policy) {
            errors.append(FieldError(.notSupported(restartPolicies), field: "\(field).restartPolicy", value: .string(policy)))
        }
        if let policy = spec["dnsPolicy"].stringValue, !dnsPolicies.contains(policy) {
            errors.append(FieldError(.notSupported(dnsPolicies), field: "\(field).dnsPolicy", value: .string(policy)))
        }
        var volumeNames = Set<String>()
        for (i, v) in (spec["volumes"].arrayValue ?? []).enumerated() {
            let name = v["name"].stringValue ?? ""
            let items = [("downwardAPI", v["downwardAPI"]["items"])] + (v["projected"]["sources"].arrayValue ?? []).enumerated().map {
                ("projected.sources[\($0)].downwardAPI", $1["downwardAPI"]["items"])
            }
            for (source, list) in items {
                for (j, item) in (list.arrayValue ?? []).enumerated() {
                    validateResourceField(item["resourceFieldRef"], field: "\(field).volumes[\(i)].\(source).items[\(j)].resourceFieldRef", errors: &errors)
                }
            }
            if name.isEmpty { errors.required("\(field).volumes[\(i)].name") }
            else if !volumeNames.insert(name).inserted { errors.append(FieldError(.duplicate, field: "\(field).volumes[\(i)].name", value: .string(name))) }
        }
        return errors
    }

    static let cpuDivisors: Set<String> = ["1m", "1"]
    static let byteDivisors: Set<String> = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"]

    /// A `resourceFieldRef`'s divisor, as upstream: unset or "0" (client-go's zero Quantity) means 1; otherwise one
    /// of the unit values of its resource.
    static func validateResourceField(_ ref: JSONValue, field: String, errors: inout FieldErrorList) {
        guard ref != .null, let divisor = ref["divisor"].stringValue, Quantity.parse(divisor)?.isZero != true else { return }
        let resource = ref["resource"].stringValue ?? ""
        if resource.hasSuffix(".cpu") {
            if !cpuDivisors.contains(divisor) {
                errors.invalid("\(field).divisor", .string(resource), "only divisor's values 1m and 1 are supported with the cpu resource")
            }
        } else if resource.hasSuffix(".memory") || resource.hasSuffix(".ephemeral-storage") {
            if !byteDivisors.contains(divisor) {
                let kind = resource.hasSuffix(".memory") ? "memory" : "local ephemeral storage"
                errors.invalid("\(field).divisor", .string(resource),
                               "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the \(kind) resource")
            }
        }
    }

    /// Requests and limits are non-negative, and a request is at most its limit (upstream's messages).
    static func validateResources(_ resources: JSONValue, field: String, errors: inout FieldErrorList) {
        let limits = resources["limits"].objectValue ?? [:], requests = resources["requests"].objectValue ?? [:]
        for (kind, map) in [("limits", limits), ("requests", requests)] {
            for name in map.keys.sorted() {
                guard let text = map[name]?.stringValue, let quantity = Quantity.parse(text) else { continue }
                if quantity.milliValue < 0 {
                    errors.invalid("\(field).\(kind)[\(name)]", .string(text), "must be greater than or equal to 0")
                }
            }
        }
        for name in requests.keys.sorted() {
            guard let request = requests[name]?.stringValue.flatMap(Quantity.parse),
                  let limit = limits[name]?.stringValue.flatMap(Quantity.parse), request.milliValue > limit.milliValue else { continue }
            errors.invalid("\(field).requests[\(name)]", requests[name], "must be less than or equal to \(name) limit of \(limits[name]?.stringValue ?? "")")
        }
    }
}
