import ArgumentParser
import Foundation
import GRDB
import Logging
import TugAPI
import TugEncryption
import TugRegistry
import TugStorageSQLite

/// `tug secrets-encrypt status|prepare|rotate|reencrypt` (k3s's key rotation for Secrets at rest): `prepare` adds
/// a new key that can read but does not write, `rotate` makes it the one that writes, and `reencrypt` (server
/// stopped) writes every Secret again under it, as the server also does at its next start.
struct SecretsEncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "secrets-encrypt", abstract: "Encryption of Secrets at rest and its keys.",
                                                    subcommands: [Status.self, Prepare.self, Rotate.self, Reencrypt.self])

    struct Options: ParsableArguments {
        @Option(help: "The server's data directory.")
        var dataDir = "/var/lib/tugboat"
    }

    static func configuration(_ dataDir: String) throws -> EncryptionConfiguration {
        guard let configuration = try SecretsEncryption.load(dataDir: dataDir, providerConfig: nil, enable: false) else {
            throw CommandFailure("encryption is not enabled for \(dataDir) (start the server with --secrets-encryption)")
        }
        return configuration
    }

    /// The aescbc keys of the Secrets rule, and where they sit.
    static func secretsRule(_ configuration: EncryptionConfiguration) throws -> (rule: Int, provider: Int, keys: [EncryptionConfiguration.Key]) {
        for (r, rule) in configuration.rules.enumerated() where rule.resources.contains("secrets") {
            for (p, provider) in rule.providers.enumerated() { if case .aescbc(let keys) = provider { return (r, p, keys) } }
        }
        throw CommandFailure("the encryption configuration has no aescbc provider for secrets to rotate")
    }

    /// How many current Secrets are stored under each provider and key (read-only: a running server may hold the
    /// database; SQLite's WAL lets this read beside it).
    static func storedSecretsByKey(dataDir: String, configuration: EncryptionConfiguration) throws -> [String: Int] {
        var readOnly = GRDB.Configuration()
        readOnly.readonly = true
        let database = try DatabaseQueue(path: "\(dataDir)/server/db/state.db", configuration: readOnly)
        return try database.read { db -> [String: Int] in
            var counts: [String: Int] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT k.value FROM kine k JOIN (SELECT name, MAX(id) AS id FROM kine WHERE name LIKE '/core/secrets/%' GROUP BY name) m ON k.id = m.id
                WHERE k.deleted = 0
                """)
            let transformer = EncryptionTransformer(configuration)
            for row in rows {
                let bytes = [UInt8]((row["value"] as Data?) ?? Data())
                counts[transformer.writer(of: bytes, key: "/core/secrets/") ?? "a key no longer configured", default: 0] += 1
            }
            return counts
        }
    }

    static func replacingKeys(_ configuration: EncryptionConfiguration, with keys: [EncryptionConfiguration.Key]) throws -> EncryptionConfiguration {
        var changed = configuration
        let (r, p, _) = try secretsRule(configuration)
        changed.rules[r].providers[p] = .aescbc(keys: keys)
        return changed
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether Secrets are encrypted, with which keys, and how many under each.")
        @OptionGroup var options: Options

        func run() throws {
            guard let configuration = try SecretsEncryption.load(dataDir: options.dataDir, providerConfig: nil, enable: false) else {
                print("Encryption Status: Disabled")
                return
            }
            print("Encryption Status: Enabled")
            let rule = configuration.rules.first { $0.resources.contains("secrets") }
            print("Active Key Type: \(rule?.providers.first?.name ?? "identity")")
            for provider in rule?.providers ?? [] {
                print("  provider \(provider.name)" + (provider.keys.isEmpty ? "" : ": " + provider.keys.map(\.name).joined(separator: ", ")))
            }
            let counts = try SecretsEncryptCommand.storedSecretsByKey(dataDir: options.dataDir, configuration: configuration)
            for (label, count) in counts.sorted(by: { $0.key < $1.key }) { print("Secrets stored: \(count) \(label)") }
        }
    }

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a new key that reads but does not yet write (restart the server).")
        @OptionGroup var options: Options

        func run() throws {
            let configuration = try SecretsEncryptCommand.configuration(options.dataDir)
            let (_, _, keys) = try secretsRule(configuration)
            var key = EncryptionConfiguration.newKey()
            // Two keys made within a second would share a name.
            let base = key.name
            var n = 1
            while keys.contains(where: { $0.name == key.name }) { n += 1; key.name = "\(base)-\(n)" }
            try SecretsEncryption.save(try replacingKeys(configuration, with: keys + [key]), dataDir: options.dataDir)
            print("prepared key \(key.name); restart the server, then run `tug secrets-encrypt rotate`")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the newest key the one that writes (restart the server).")
        @OptionGroup var options: Options

        func run() throws {
            let configuration = try SecretsEncryptCommand.configuration(options.dataDir)
            let (_, _, keys) = try secretsRule(configuration)
            guard keys.count > 1, let newest = keys.last else { throw CommandFailure("no prepared key: run `tug secrets-encrypt prepare` first") }
            try SecretsEncryption.save(try replacingKeys(configuration, with: [newest] + keys.dropLast()), dataDir: options.dataDir)
            print("key \(newest.name) now encrypts; restart the server (it writes every Secret again under it), then run `tug secrets-encrypt reencrypt`")
        }
    }

    struct Reencrypt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Have every Secret under the current key, then drop the old keys (server running or stopped).")
        @OptionGroup var options: Options

        func run() throws {
            let lock: DataDirLock
            do { lock = try DataDirLock(dataDir: options.dataDir) } catch {
                try online()
                return
            }
            let configuration = try SecretsEncryptCommand.configuration(options.dataDir)
            // Opening the store re-encrypts what is not under the current key.
            let backend = try SQLiteBackend(path: "\(options.dataDir)/server/db/state.db", logger: Logger(label: "tug.storage"),
                                            transformer: EncryptionTransformer(configuration), indexer: StorageKeys.indexer(scheme: .builtIn))
            guard backend.corruptRecords.isEmpty else { throw CommandFailure("\(backend.corruptRecords.count) records cannot be read; keys kept") }
            let (_, _, keys) = try secretsRule(configuration)
            if keys.count > 1 { try SecretsEncryption.save(try replacingKeys(configuration, with: [keys[0]]), dataDir: options.dataDir) }
            print("every Secret is stored under key \(keys[0].name)" + (keys.count > 1 ? "; removed \(keys.count - 1) older key(s)" : ""))
            withExtendedLifetime(lock) {}
        }

        /// With the server running: a server started with the current key wrote every Secret again under it at
        /// start (and writes new ones under it), so the old keys go once the database shows none left under them.
        func online() throws {
            // The lock file is written when the server starts: a configuration changed after that is not the one the
            // server writes with (it would still write under the old key), so nothing may be dropped yet.
            let modified = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantFuture }
            if modified(SecretsEncryption.generatedPath(dataDir: options.dataDir)) > modified(DataDirLock.path(dataDir: options.dataDir)) {
                throw CommandFailure("the encryption configuration changed after the server started: restart the server, then run reencrypt again")
            }
            let configuration = try SecretsEncryptCommand.configuration(options.dataDir)
            let (_, provider, keys) = try secretsRule(configuration)
            let current = "\(configuration.rules.first { $0.resources.contains("secrets") }!.providers[provider].name) key \(keys[0].name)"
            let counts = try SecretsEncryptCommand.storedSecretsByKey(dataDir: options.dataDir, configuration: configuration)
            let behind = counts.filter { $0.key != current }.values.reduce(0, +)
            guard behind == 0 else {
                throw CommandFailure("\(behind) Secrets are not yet under key \(keys[0].name): the server was started before it became the current key; "
                                     + "restart the server (it writes them again under it at start), then run reencrypt again")
            }
            if keys.count > 1 { try SecretsEncryption.save(try replacingKeys(configuration, with: [keys[0]]), dataDir: options.dataDir) }
            print("every Secret is stored under key \(keys[0].name)" + (keys.count > 1 ? "; removed \(keys.count - 1) older key(s) (the server drops them at its next start)" : ""))
        }
    }
}
