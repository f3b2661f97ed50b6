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
    let evaluate: @Sendable (PodView) -> Violation?

    init(_ id: String, _ level: PodSecurityLevel, overrides: [String] = [], _ evaluate: @escaping @Sendable (PodView) -> Violation?) {
        self.id = id
        self.level = level
        self.overrides = overrides
        self.evaluate = evaluate
    }

    /// The checks of `level` (and below), without those a check of the level overrides, in ID order.
    public static func checks(for level: PodSecurityLevel) -> [PodSecurityCheck] {
        let applicable = all.filter { $0.level <= level }
        let replaced = Set(applicable.filter { $0.level == level }.flatMap(\.overrides))
        return applicable.filter { !replaced.contains($0.id) }.sorted { $0.id < $1.id }
    }

    /// What is wrong with a pod (its metadata and spec) at `level`, in upstream's order.
    public static func violations(metadata: JSONValue, spec: JSONValue, level: PodSecurityLevel) -> [Violation] {
        guard level != .privileged else { return [] }
        let pod = PodView(metadata: metadata, spec: spec)
        return checks(for: level).compactMap { $0.evaluate(pod) }
    }

    static let all = BaselineChecks.all + RestrictedChecks.all
}

/// A pod's spec as the checks read it: every container (init, regular, ephemeral) with its security context.
struct PodView: Sendable {
    let metadata: JSONValue
    let spec: JSONValue
    let containers: [JSONValue]

    init(metadata: JSONValue, spec: JSONValue) {
        self.metadata = metadata
        self.spec = spec
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
