public import Foundation
import Crypto
import TugAPIMachinery

/// kube-apiserver's `EncryptionConfiguration` (`apiserver.config.k8s.io/v1`): for each group of resources, the
/// providers in order; the first encrypts what is written, all of them are tried (by their prefix) on reads.
public struct EncryptionConfiguration: Sendable, Equatable {
    public enum Provider: Sendable, Equatable {
        case aescbc(keys: [Key])
        case aesgcm(keys: [Key])
        case secretbox(keys: [Key])
        case identity

        public var name: String {
            switch self {
            case .aescbc: "aescbc"
            case .aesgcm: "aesgcm"
            case .secretbox: "secretbox"
            case .identity: "identity"
            }
        }

        public var keys: [Key] {
            switch self {
            case .aescbc(let keys), .aesgcm(let keys), .secretbox(let keys): keys
            case .identity: []
            }
        }
    }

    public struct Key: Sendable, Equatable {
        public var name: String
        /// The key's bytes (32 for aescbc and secretbox; 16, 24 or 32 for aesgcm).
        public var secret: [UInt8]

        public init(name: String, secret: [UInt8]) {
            self.name = name
            self.secret = secret
        }
    }

    public struct Rule: Sendable, Equatable {
        /// `secrets`, `deployments.apps`, `*.apps`, `*.*`.
        public var resources: [String]
        public var providers: [Provider]

        public init(resources: [String], providers: [Provider]) {
            self.resources = resources
            self.providers = providers
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule]) {
        self.rules = rules
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses the YAML or JSON file kube-apiserver's `--encryption-provider-config` takes.
    public static func parse(_ text: String) throws -> EncryptionConfiguration {
        let document: JSONValue
        do { document = try YAMLDecoding.decode(text) } catch { throw Failure(description: "not YAML or JSON: \(error)") }
        guard document["kind"].stringValue == "EncryptionConfiguration" else { throw Failure(description: "kind must be EncryptionConfiguration") }
        var rules: [Rule] = []
        for (i, entry) in (document["resources"].arrayValue ?? []).enumerated() {
            let resources = (entry["resources"].arrayValue ?? []).compactMap(\.stringValue)
            guard !resources.isEmpty else { throw Failure(description: "resources[\(i)].resources: must name at least one resource") }
            var providers: [Provider] = []
            for (j, provider) in (entry["providers"].arrayValue ?? []).enumerated() {
                let path = "resources[\(i)].providers[\(j)]"
                func keys(_ name: String, sizes: Set<Int>) throws -> [Key] {
                    let list = provider[name]["keys"].arrayValue ?? []
                    guard !list.isEmpty else { throw Failure(description: "\(path).\(name).keys: at least one key is required") }
                    return try list.enumerated().map { k, key in
                        guard let keyName = key["name"].stringValue, !keyName.isEmpty else { throw Failure(description: "\(path).\(name).keys[\(k)].name: required") }
                        guard let secret = key["secret"].stringValue.flatMap(Base64.decode), sizes.contains(secret.count) else {
                            throw Failure(description: "\(path).\(name).keys[\(k)].secret: must be base64 of \(sizes.sorted().map(String.init).joined(separator: ", ")) bytes")
                        }
                        return Key(name: keyName, secret: secret)
                    }
                }
                if !provider["aescbc"].isNull { providers.append(.aescbc(keys: try keys("aescbc", sizes: [32]))) }
                else if !provider["aesgcm"].isNull { providers.append(.aesgcm(keys: try keys("aesgcm", sizes: [16, 24, 32]))) }
                else if !provider["secretbox"].isNull { providers.append(.secretbox(keys: try keys("secretbox", sizes: [32]))) }
                else if !provider["identity"].isNull { providers.append(.identity) }
                else { throw Failure(description: "\(path): one of aescbc, aesgcm, secretbox or identity is required (kms is not supported)") }
            }
            guard !providers.isEmpty else { throw Failure(description: "resources[\(i)].providers: at least one provider is required") }
            rules.append(Rule(resources: resources, providers: providers))
        }
        guard !rules.isEmpty else { throw Failure(description: "resources: at least one entry is required") }
        return EncryptionConfiguration(rules: rules)
    }

    /// The file, as kube-apiserver and k3s write it.
    public var json: JSONValue {
        func key(_ k: Key) -> JSONValue { ["name": .string(k.name), "secret": .string(Base64.encode(k.secret))] }
        return [
            "kind": "EncryptionConfiguration", "apiVersion": "apiserver.config.k8s.io/v1",
            "resources": .array(rules.map { rule in
                ["resources": .array(rule.resources.map(JSONValue.string)), "providers": .array(rule.providers.map { provider in
                    provider == .identity ? ["identity": .emptyObject] : [provider.name: ["keys": .array(provider.keys.map(key))]]
                })]
            }),
        ]
    }

    /// k3s's default for `--secrets-encryption`: Secrets under a new random aescbc key, plaintext still readable.
    public static func generated(now: Date = Date()) -> EncryptionConfiguration {
        EncryptionConfiguration(rules: [Rule(resources: ["secrets"], providers: [.aescbc(keys: [newKey(now: now)]), .identity])])
    }

    /// A random 32-byte key named after its creation time (k3s's `aescbckey-<timestamp>`).
    public static func newKey(now: Date = Date()) -> Key {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return Key(name: "aescbckey-\(formatter.string(from: now))", secret: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }
}
