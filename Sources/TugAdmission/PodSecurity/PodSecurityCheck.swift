public import TugAPIMachinery

/// One Pod Security Standards check, as upstream's `pod-security-admission/policy` registry: its ID (checks run and
/// report in ID order), the lowest level it applies at, the checks it replaces at its level, and what it finds
/// wrong with a pod (the reason and detail upstream prints: `hostPath volumes (volume "root")`).
public struct PodSecurityCheck: Sendable {
    public struct Violation: Sendable, Equatable {
        public var reason: String
        public var detail: String

        public var text: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
    }

    public let id: String
    public let level: PodSecurityLevel
    public let overrides: [String]
    /// The first Kubernetes 1.x minor version the check is part of its level at (upstream's MinimumVersion).
    public let since: Int
    let evaluate: @Sendable (PodView) -> Violation?

    init(_ id: String, _ level: PodSecurityLevel, since: Int = 0, overrides: [String] = [], _ evaluate: @escaping @Sendable (PodView) -> Violation?) {
        self.id = id
        self.level = level
        self.since = since
        self.overrides = overrides
        self.evaluate = evaluate
    }

    /// The checks of `level` (and below) at version 1.`minor`, without those a check of the level overrides, in ID
    /// order: a `restricted:v1.21` namespace still gets baseline's capabilities check, which restricted's replaces
    /// from 1.22 on.
    public static func checks(for level: PodSecurityLevel, minor: Int = .max) -> [PodSecurityCheck] {
        let applicable = all.filter { $0.level <= level && $0.since <= minor }
        let replaced = Set(applicable.filter { $0.level == level }.flatMap(\.overrides))
        return applicable.filter { !replaced.contains($0.id) }.sorted { $0.id < $1.id }
    }

    /// What is wrong with a pod (its metadata and spec) at `policy`'s level and version, in upstream's order.
    public static func violations(metadata: JSONValue, spec: JSONValue, level policy: PodSecurityLevelVersion) -> [Violation] {
        guard policy.level != .privileged else { return [] }
        let pod = PodView(metadata: metadata, spec: spec, minor: policy.minor)
        return checks(for: policy.level, minor: policy.minor).compactMap { $0.evaluate(pod) }
    }

    static let all = BaselineChecks.all + RestrictedChecks.all
}

/// A pod's spec as the checks read it: every container (init, regular, ephemeral) with its security context.
struct PodView: Sendable {
    let metadata: JSONValue
    let spec: JSONValue
    let containers: [JSONValue]
    /// The policy's Kubernetes 1.x minor version (.max for latest), for checks whose rules changed over versions.
    let minor: Int

    init(metadata: JSONValue, spec: JSONValue, minor: Int = .max) {
        self.metadata = metadata
        self.spec = spec
        self.minor = minor
        containers = ["initContainers", "containers", "ephemeralContainers"].flatMap { spec[$0].arrayValue ?? [] }
    }

    var podContext: JSONValue { spec["securityContext"] }
    var isWindows: Bool { spec["os"]["name"].stringValue == "windows" }

    /// The names of the containers for which `bad` holds.
    func containerNames(where bad: (JSONValue) -> Bool) -> [String] {
        containers.filter(bad).map { $0["name"].stringValue ?? "" }
    }
}

/// Upstream's wording helpers: `container "a"` / `containers "a", "b"`.
enum Words {
    static func quoted(_ names: [String]) -> String { names.map { "\"\($0)\"" }.joined(separator: ", ") }

    static func plural(_ singular: String, _ plural: String, _ count: Int) -> String { count == 1 ? singular : plural }

    static func containers(_ names: [String]) -> String { "\(plural("container", "containers", names.count)) \(quoted(names))" }

    /// `pod and containers "a", "b"` style subjects.
    static func podAnd(pod: Bool, _ names: [String]) -> String {
        switch (pod, names.isEmpty) {
        case (true, true): return "pod"
        case (true, false): return "pod and \(containers(names))"
        default: return containers(names)
        }
    }
}
