import Foundation
import Testing
import TugAPIMachinery
import TugRuntime
@testable import TugNodeAgent

@Suite struct ContainerSecurityTests {
    let security = ContainerSecurity(seccompDirectory: "/nonexistent", appArmorEnabled: false)

    func config() -> ContainerConfig {
        ContainerConfig(name: "c", attempt: 0, image: ResolvedImage(reference: "busybox", manifest: Digest(of: [1]), configDigest: Digest(of: [2]), layers: []),
                        process: ContainerSpec.Process(args: ["sh"], env: []), logPath: "/dev/null")
    }

    @Test func seccompComesFromTheContainerThenThePodThenTheNode() throws {
        let pod: JSONValue = ["spec": ["securityContext": ["seccompProfile": ["type": "RuntimeDefault"]], "hostPID": true]]
        var built = config()
        try security.apply(pod: pod, container: ["name": "c"], to: &built)
        #expect(built.seccomp == .runtimeDefault && built.hostPID && !built.hostIPC)
        try security.apply(pod: pod, container: ["securityContext": ["seccompProfile": ["type": "Unconfined"], "procMount": "Unmasked"]], to: &built)
        #expect(built.seccomp == .unconfined && built.unmaskedProc)
        try security.apply(pod: ["spec": [:]], container: [:], to: &built)
        #expect(built.seccomp == .unconfined, "the kubelet's default: no filter unless --seccomp-default")
        var strict = security
        strict.seccompDefault = true
        try strict.apply(pod: ["spec": ["hostIPC": true]], container: [:], to: &built)
        #expect(built.seccomp == .runtimeDefault && built.hostIPC)
        #expect { try security.seccomp(["type": "Strict"]) } throws: { "\($0)".contains("unknown seccomp profile type \"Strict\"") }
        #expect { try security.seccomp(["type": "Localhost", "localhostProfile": "p.json"]) } throws: { "\($0)".contains("p.json") }
    }

    @Test func appArmorIsRefusedWhereTheHostHasNone() throws {
        var built = config()
        let asks: [JSONValue] = [
            ["spec": ["securityContext": ["appArmorProfile": ["type": "RuntimeDefault"]]]],
            ["spec": ["containers": [["name": "c", "securityContext": ["appArmorProfile": ["type": "Localhost", "localhostProfile": "k"]]]]]],
            ["metadata": ["annotations": ["container.apparmor.security.beta.kubernetes.io/c": "runtime/default"]], "spec": [:]],
        ]
        for pod in asks {
            #expect { try security.apply(pod: pod, container: [:], to: &built) } throws: {
                "\($0)" == "Cannot enforce AppArmor: AppArmor is not enabled on the host"
            }
        }
        let unconfined: JSONValue = ["metadata": ["annotations": ["container.apparmor.security.beta.kubernetes.io/c": "unconfined"]],
                                     "spec": ["securityContext": ["appArmorProfile": ["type": "Unconfined"]]]]
        try security.apply(pod: unconfined, container: [:], to: &built)
    }

    @Test func volumeOwnershipFollowsTheKubeletsRule() {
        let both = VolumeOwnership(pod: ["spec": ["securityContext": ["runAsUser": 1000, "fsGroup": 2000], "containers": [["name": "a"], ["name": "b"]]]])
        #expect(both == VolumeOwnership(user: 1000, group: 2000))
        #expect(both.tmpfs == (0o750, 1000, 2000) && both.tokenMode(requested: 0o644) == 0o640 && both.fileMode(requested: 0o600) == 0o640)
        let user = VolumeOwnership(pod: ["spec": ["containers": [["securityContext": ["runAsUser": 1000]]], "initContainers": [["securityContext": ["runAsUser": 1000]]]]])
        #expect(user.tmpfs == (0o700, 1000, 0) && user.tokenMode(requested: 0o644) == 0o600 && user.fileOwner! == (1000, 0))
        let root = VolumeOwnership(pod: ["spec": ["securityContext": ["runAsUser": 0], "containers": [[:]]]])
        #expect(root.allRoot && root.tmpfs == (0o700, 0, 0) && root.fileOwner == nil && root.tokenMode(requested: 0o644) == 0o600)
        let mixed = VolumeOwnership(pod: ["spec": ["containers": [["securityContext": ["runAsUser": 1000]], [:]]]])
        #expect(mixed == VolumeOwnership() && mixed.tmpfs == (0o755, 0, 0) && mixed.tokenMode(requested: 0o644) == 0o644,
                "an image's USER is not known here: what the volume's modes allow stays readable")
    }
}
