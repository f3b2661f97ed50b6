import Foundation
import TugAPIMachinery
import TugEncryption

/// Where a server's encryption configuration lives and how it is loaded (k3s's
/// `<data-dir>/server/cred/encryption-config.json`, or kube-apiserver's `--encryption-provider-config`).
enum SecretsEncryption {
    static func generatedPath(dataDir: String) -> String { "\(dataDir)/server/cred/encryption-config.json" }

    /// The configuration to use: the given file, else the generated one if it exists (once enabled, encryption
    /// stays on: the store holds values only it can read), else a new one when `enable` is set, else none.
    static func load(dataDir: String, providerConfig: String?, enable: Bool) throws -> EncryptionConfiguration? {
        if let providerConfig {
            return try EncryptionConfiguration.parse(try String(contentsOfFile: providerConfig, encoding: .utf8))
        }
        let path = generatedPath(dataDir: dataDir)
        if FileManager.default.fileExists(atPath: path) {
            return try EncryptionConfiguration.parse(try String(contentsOfFile: path, encoding: .utf8))
        }
        guard enable else { return nil }
        let configuration = EncryptionConfiguration.generated()
        try save(configuration, dataDir: dataDir)
        return configuration
    }

    static func save(_ configuration: EncryptionConfiguration, dataDir: String) throws {
        let directory = "\(dataDir)/server/cred"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = generatedPath(dataDir: dataDir), temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(JSONWriter.bytes(configuration.json)), attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else { throw CommandFailure("cannot write \(path)") }
    }
}
