import Foundation
import TugAPIMachinery
import TugOS
import TugRuntime

/// The node's confinement policy for containers, and how a pod's securityContext maps onto it: the seccomp
/// profile (container field, then pod field, then the node default), `procMount`, host namespaces, and AppArmor,
/// which these hosts do not have — a pod that asks for it is refused plainly, as the kubelet refuses it.
struct ContainerSecurity: Sendable {
    /// `<agent root>/seccomp`: where Localhost profiles live (the kubelet's `<root-dir>/seccomp`).
    var seccompDirectory: String
    /// The kubelet's `--seccomp-default`: RuntimeDefault for containers that ask for no profile.
    var seccompDefault = false
    var appArmorEnabled = ContainerSecurity.hostHasAppArmor()

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    static func hostHasAppArmor() -> Bool {
        ProcFS.read("/sys/module/apparmor/parameters/enabled")?.hasPrefix("Y") == true
    }

    func apply(pod: JSONValue, container: JSONValue, to config: inout ContainerConfig) throws {
        let podSecurity = pod["spec"]["securityContext"]
        let security = container["securityContext"]
        if !appArmorEnabled, Self.requiresAppArmor(pod: pod) {
            throw Refused(description: "Cannot enforce AppArmor: AppArmor is not enabled on the host")
        }
        config.seccomp = try seccomp(security["seccompProfile"] != .null ? security["seccompProfile"] : podSecurity["seccompProfile"])
        config.unmaskedProc = security["procMount"].stringValue == "Unmasked"
        config.hostPID = pod["spec"]["hostPID"].boolValue == true
        config.hostIPC = pod["spec"]["hostIPC"].boolValue == true
    }

    func seccomp(_ profile: JSONValue) throws -> SeccompProfile {
        switch profile["type"].stringValue {
        case nil: return seccompDefault ? .runtimeDefault : .unconfined
        case "Unconfined": return .unconfined
        case "RuntimeDefault": return .runtimeDefault
        case "Localhost": return try SeccompProfile.localhost(profile["localhostProfile"].stringValue ?? "", under: seccompDirectory)
        case let other?: throw Refused(description: "unknown seccomp profile type \"\(other)\"")
        }
    }

    /// Whether any of the pod's profiles (fields or the deprecated beta annotations) asks for more than unconfined.
    static func requiresAppArmor(pod: JSONValue) -> Bool {
        let confining = { (profile: JSONValue) in profile != .null && profile["type"].stringValue != "Unconfined" }
        if confining(pod["spec"]["securityContext"]["appArmorProfile"]) { return true }
        let containers = ["initContainers", "containers", "ephemeralContainers"].flatMap { pod["spec"][$0].arrayValue ?? [] }
        if containers.contains(where: { confining($0["securityContext"]["appArmorProfile"]) }) { return true }
        let annotations = pod["metadata"]["annotations"].objectValue ?? [:]
        return annotations.contains { key, value in
            key.hasPrefix("container.apparmor.security.beta.kubernetes.io/") && value.stringValue != "unconfined"
        }
    }
}
