import ArgumentParser
import Foundation
import TugOS
import TugProxy
import TugRuntime

/// `tug reset`: removes what a server with this data dir created on the host.
///
/// The node's containers and sandboxes (processes, mounts, cgroups, network namespaces, veths, the pod
/// bridge when unused, portmap iptables rules), the service proxy's iptables rules, then the data dir itself (store, certificates, images).
struct ResetCommand: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "reset", abstract: "Remove everything a Tugboat server with this data dir created.")

    @Option(help: "The server's data directory.")
    var dataDir = "/var/lib/tugboat"

    func execute() async throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: dataDir) else {
            print("nothing to reset: \(dataDir) does not exist")
            return
        }
        let marker = "\(dataDir)/server"
        for role in ["server", "agent"] where DataDirLock.isHeld(dataDir: dataDir, role: role) {
            throw CommandFailure("a tug \(role) is running with \(dataDir); stop it before resetting")
        }
        let empty = try fm.contentsOfDirectory(atPath: dataDir).isEmpty
        guard fm.fileExists(atPath: marker) || fm.fileExists(atPath: "\(dataDir)/agent") || empty else {
            throw CommandFailure("\(dataDir) does not look like a Tugboat data dir (no server/ or agent/ inside); refusing to delete it")
        }
        if fm.fileExists(atPath: "\(dataDir)/agent/sandboxes") {
            let runtime = try LinuxRuntime(root: "\(dataDir)/agent", images: try ImageStore(root: "\(dataDir)/images"), podCIDR: nil)
            let summary = try await runtime.reset()
            print("removed \(summary.containers) containers, \(summary.sandboxes) pod sandboxes, \(summary.mounts) mounts"
                  + (summary.bridgeRemoved ? ", the \(runtime.bridge) bridge" : "") + (summary.hostPortChainsRemoved ? ", the host-port iptables chains" : ""))
        }
        if try await IPTables(runner: ProcessCommandRunner()).remove(ChainNames(root: "\(dataDir)/agent")) {
            print("removed the service proxy's iptables rules")
        }
        if try await IPTables(runner: ProcessCommandRunner()).remove(ChainNames(root: "\(dataDir)/agent").policy) {
            print("removed the network policy iptables rules")
        }
        try fm.removeItem(atPath: dataDir)
        print("removed \(dataDir)")
    }
}
