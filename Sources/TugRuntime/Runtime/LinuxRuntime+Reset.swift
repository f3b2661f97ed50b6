import Foundation
import TugCNI
import TugOS
#if canImport(Glibc)
import Glibc
#endif

extension LinuxRuntime {
    /// What `reset` removed, for the user.
    public struct ResetSummary: Sendable {
        public var containers = 0
        public var sandboxes = 0
        public var mounts = 0
        public var bridgeRemoved = false
        public var hostPortChainsRemoved = false
    }

    /// Tears down everything this runtime root created: every container and sandbox (processes, runc state,
    /// cgroups, network attachments and their iptables rules), every mount under the root, and the pod bridge
    /// once no other pod uses it.
    public func reset() async throws -> ResetSummary {
        var summary = ResetSummary()
        for container in try await containers() {
            try await removeContainer(container.id)
            summary.containers += 1
        }
        for sandbox in try await sandboxes() {
            try await removeSandbox(sandbox.id)
            summary.sandboxes += 1
        }
        // runc state left by a crash between `runc run` and the record being written.
        for state in (try? await runc.list()) ?? [] {
            try await runc.delete(state.id)
        }
        for point in Mounts.mountPoints(under: root) {
            try Mounts.unmount(point)
            summary.mounts += 1
        }
        removeCgroups(cgroupParent)
        try? FileManager.default.removeItem(atPath: socketDirectory)
        let ports = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net/\(bridge)/brif")) ?? ["?"]
        if FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)"), ports.isEmpty {
            _ = try await runner.output(Command(["ip", "link", "delete", bridge, "type", "bridge"], timeout: .seconds(10)))
            summary.bridgeRemoved = true
        }
        summary.hostPortChainsRemoved = try await HostPortChains.removeIfUnused(runner: runner)
        return summary
    }
}
