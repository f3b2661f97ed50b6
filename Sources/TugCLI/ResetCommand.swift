import ArgumentParser
import Foundation

/// `tug reset`: removes what a server with this data dir created on the host.
///
/// Today that is its files (store, certificates, kubeconfig); later issues extend it to containers, mounts,
/// network namespaces and iptables chains.
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
        if DataDirLock.isHeld(dataDir: dataDir) {
            throw CommandFailure("a tug server is running with \(dataDir); stop it before resetting")
        }
        let empty = try fm.contentsOfDirectory(atPath: dataDir).isEmpty
        guard fm.fileExists(atPath: marker) || empty else {
            throw CommandFailure("\(dataDir) does not look like a Tugboat data dir (no server/ inside); refusing to delete it")
        }
        try fm.removeItem(atPath: dataDir)
        print("removed \(dataDir)")
    }
}
