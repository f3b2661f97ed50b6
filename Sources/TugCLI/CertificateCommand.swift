import ArgumentParser
import Foundation
import X509

/// `tug certificate check|rotate` (k3s's `certificate` command): list the certificates of a data dir with their
/// expiry, and rotate them — with the server stopped, the current ones are copied to `server/tls-<time>` and
/// removed, and the next start issues new ones from the same CA (nodes keep trusting it). A joined agent's own
/// certificates (`agent/pki`) are rotated the same way: its next start asks the server for new ones.
struct CertificateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "certificate", abstract: "The certificates of a data dir: check and rotate them.",
                                                    subcommands: [Check.self, Rotate.self])

    struct Options: ParsableArguments {
        @Option(help: "The server's or agent's data directory.")
        var dataDir = "/var/lib/tugboat"
    }

    /// Each rotatable service, k3s's names, and its files (relative to the data dir).
    static let services: [(name: String, files: [String])] = [
        ("admin", ["server/tls/admin.crt", "server/tls/admin.key"]),
        ("api-server", ["server/tls/serving.crt", "server/tls/serving.key"]),
        ("kubelet", ["agent/pki/client.crt", "agent/pki/client.key", "agent/pki/serving.crt", "agent/pki/serving.key"]),
    ]

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the data dir's certificates: subject, issuer, expiry.")
        @OptionGroup var options: Options

        func run() throws {
            let files = ["server/tls/ca.crt"] + CertificateCommand.services.flatMap(\.files).filter { $0.hasSuffix(".crt") }
            let formatter = ISO8601DateFormatter()
            for file in files {
                let path = "\(options.dataDir)/\(file)"
                guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
                guard let certificate = try? Certificate(pemEncoded: pem) else {
                    print("\(file): not a certificate")
                    continue
                }
                let days = Int(certificate.notValidAfter.timeIntervalSinceNow / 86_400)
                print("\(file): subject \(certificate.subject), issuer \(certificate.issuer), expires \(formatter.string(from: certificate.notValidAfter)) (\(days) days)")
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rotate certificates (server stopped): the next start issues new ones from the same CA.")
        @OptionGroup var options: Options

        @Option(name: .shortAndLong, parsing: .upToNextOption,
                help: "Services to rotate (admin, api-server, kubelet); all of them when none is given.")
        var service: [String] = []

        func run() throws {
            let known = CertificateCommand.services.map(\.name)
            if let unknown = service.first(where: { !known.contains($0) }) {
                throw CommandFailure("unknown service \"\(unknown)\"; choose from \(known.joined(separator: ", "))")
            }
            for role in ["server", "agent"] where DataDirLock.isHeld(dataDir: options.dataDir, role: role) {
                throw CommandFailure("a tug \(role) is running with \(options.dataDir); stop it before rotating certificates")
            }
            let chosen = CertificateCommand.services.filter { service.isEmpty || service.contains($0.name) }
            let present = chosen.flatMap(\.files).filter { FileManager.default.fileExists(atPath: "\(options.dataDir)/\($0)") }
            guard !present.isEmpty else { throw CommandFailure("no certificates to rotate under \(options.dataDir)") }
            let backup = "\(options.dataDir)/server/tls-\(Int(Date().timeIntervalSince1970))"
            try FileManager.default.createDirectory(atPath: backup, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for file in present {
                let source = "\(options.dataDir)/\(file)"
                let target = "\(backup)/\(file.replacingOccurrences(of: "/", with: "-"))"
                try FileManager.default.copyItem(atPath: source, toPath: target)
                try FileManager.default.removeItem(atPath: source)
            }
            print("certificates of \(chosen.map(\.name).joined(separator: ", ")) rotated (the old ones are in \(backup));"
                  + " the next start issues new ones from the cluster CA")
        }
    }
}
