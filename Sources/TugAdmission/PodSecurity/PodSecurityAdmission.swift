public import TugAPI
public import TugAPIMachinery
public import TugAuth
public import TugRegistry

/// The PodSecurity admission plugin (upstream's `pod-security-admission`): a new pod is checked against its
/// namespace's `enforce` level (refused with upstream's message) and `warn` level (a warning the client prints);
/// workload templates get the warnings only (their pods are enforced when created); namespace labels are
/// validated, and changing a namespace's enforce level warns about the pods already there that would violate it.
public struct PodSecurityAdmission: AdmissionPlugin {
    public struct Exemptions: Sendable {
        public var usernames: Set<String> = []
        public var namespaces: Set<String> = []
        public var runtimeClasses: Set<String> = []
        public init() {}
    }

    let defaults: PodSecurityPolicy
    let exemptions: Exemptions

    public init(defaults: PodSecurityPolicy, exemptions: Exemptions = Exemptions()) {
        self.defaults = defaults
        self.exemptions = exemptions
    }

    /// The plugin on pods, pod templates, the workload kinds and namespaces.
    public func registrations() -> [GroupResource: [any AdmissionPlugin]] {
        var out: [GroupResource: [any AdmissionPlugin]] = [GroupResource(group: "", resource: "namespaces"): [self]]
        for resource in [GroupResource(group: "", resource: "pods"), GroupResource(group: "", resource: "podtemplates"),
                         GroupResource(group: "", resource: "replicationcontrollers")] + Self.templatePaths.keys.map({ $0 }) {
            out[resource] = [self]
        }
        return out
    }

    /// Where each workload kind keeps its pod template.
    static let templatePaths: [GroupResource: [String]] = [
        GroupResource(group: "apps", resource: "deployments"): ["spec", "template"],
        GroupResource(group: "apps", resource: "replicasets"): ["spec", "template"],
        GroupResource(group: "apps", resource: "statefulsets"): ["spec", "template"],
        GroupResource(group: "apps", resource: "daemonsets"): ["spec", "template"],
        GroupResource(group: "batch", resource: "jobs"): ["spec", "template"],
        GroupResource(group: "batch", resource: "cronjobs"): ["spec", "jobTemplate", "spec", "template"],
        GroupResource(group: "", resource: "replicationcontrollers"): ["spec", "template"],
        GroupResource(group: "", resource: "podtemplates"): ["template"],
    ]

    public func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?,
                      user: UserInfo?) throws(StatusError) {
        if d.groupResource == GroupResource(group: "", resource: "namespaces") {
            try admitNamespace(store, object, old: old)
            return
        }
        if let user, exemptions.usernames.contains(user.name) { return }
        let namespace = object.namespace
        guard !exemptions.namespaces.contains(namespace) else { return }
        let policy = policy(of: namespace, store: store)
        if d.groupResource == GroupResource(group: "", resource: "pods") {
            // Only a new pod, or one whose spec changes, is evaluated (status writes and metadata edits are not).
            if let old, old["spec"] == object["spec"] { return }
            if let runtimeClass = object["spec"]["runtimeClassName"].stringValue, exemptions.runtimeClasses.contains(runtimeClass) { return }
            try check(metadata: object["metadata"], spec: object["spec"], name: object.name, policy: policy, enforce: true)
        } else if let path = Self.templatePaths[d.groupResource] {
            let template = path.reduce(object) { $0[$1] }
            if let old, path.reduce(old, { $0[$1] }) == template { return }
            try check(metadata: template["metadata"], spec: template["spec"], name: object.name, policy: policy, enforce: false)
        }
    }

    func policy(of namespace: String, store: ObjectStore) -> PodSecurityPolicy {
        guard let definition = store.definition(group: "", resource: "namespaces"),
              let stored = store.backend.get(key: StorageKeys.key(definition, namespace: "", name: namespace)),
              let ns = try? store.decode(stored) else { return defaults }
        // Invalid labels were refused when written; a stored one that does not parse keeps the default.
        return defaults.overridden(by: ns.labels).0
    }

    func check(metadata: JSONValue, spec: JSONValue, name: String, policy: PodSecurityPolicy, enforce: Bool) throws(StatusError) {
        // The audit mode annotates the request's audit event (upstream's audit-violations annotation), refused or not.
        let audited = PodSecurityCheck.violations(metadata: metadata, spec: spec, level: policy.audit)
        if !audited.isEmpty {
            AdmissionWarnings.annotate("pod-security.kubernetes.io/audit-violations",
                                       "would violate PodSecurity \"\(policy.audit)\": " + audited.map(\.text).joined(separator: ", "))
        }
        if enforce {
            AdmissionWarnings.annotate("pod-security.kubernetes.io/enforce-policy", policy.enforce.description)
            let violations = PodSecurityCheck.violations(metadata: metadata, spec: spec, level: policy.enforce)
            if !violations.isEmpty {
                throw .forbidden(GroupResource(group: "", resource: "pods"), name: name,
                                 "violates PodSecurity \"\(policy.enforce)\": " + violations.map(\.text).joined(separator: ", "))
            }
        }
        let warned = PodSecurityCheck.violations(metadata: metadata, spec: spec, level: policy.warn)
        if !warned.isEmpty {
            AdmissionWarnings.add("would violate PodSecurity \"\(policy.warn)\": " + warned.map(\.text).joined(separator: ", "))
        }
    }

    /// Labels must name a level and version; a stricter enforce level warns about the pods it would refuse.
    func admitNamespace(_ store: ObjectStore, _ namespace: JSONValue, old: JSONValue?) throws(StatusError) {
        let (policy, errors) = defaults.overridden(by: namespace.labels)
        if !errors.isEmpty { throw .invalid(kind: "Namespace", group: "", name: namespace.name, errors: errors) }
        guard let old, !exemptions.namespaces.contains(namespace.name) else { return }
        let previous = defaults.overridden(by: old.labels).0
        guard policy.enforce != previous.enforce, policy.enforce.level != .privileged,
              let pods = store.definition(group: "", resource: "pods"),
              let listed = try? store.backend.list(prefix: StorageKeys.prefix(pods, namespace: namespace.name)) else { return }
        var offenders: [String] = []
        for stored in listed.items.prefix(3000) {
            guard let pod = try? store.decode(stored) else { continue }
            let violations = PodSecurityCheck.violations(metadata: pod["metadata"], spec: pod["spec"], level: policy.enforce)
            if !violations.isEmpty { offenders.append("\(pod.name): " + violations.map(\.reason).joined(separator: ", ")) }
        }
        guard !offenders.isEmpty else { return }
        AdmissionWarnings.add("existing pods in namespace \"\(namespace.name)\" violate the new PodSecurity enforce level \"\(policy.enforce)\"")
        for line in offenders.prefix(20) { AdmissionWarnings.add(line) }
    }
}
