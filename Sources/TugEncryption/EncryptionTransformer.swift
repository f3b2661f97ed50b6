import Crypto
import _CryptoExtras
public import TugStorage

/// Encryption at rest with an `EncryptionConfiguration`, in kube-apiserver's stored format:
/// `k8s:enc:aescbc:v1:<key>:` + IV + AES-256-CBC (PKCS#7), `k8s:enc:aesgcm:v1:<key>:` + nonce + AES-GCM ciphertext and
/// tag, `k8s:enc:secretbox:v1:<key>:` + 24-byte nonce + NaCl secretbox (tag, then ciphertext); identity stores the
/// value as it is. Values of resources no rule names are stored as they are.
public struct EncryptionTransformer: ValueTransformer {
    let configuration: EncryptionConfiguration

    public init(_ configuration: EncryptionConfiguration) {
        self.configuration = configuration
    }

    /// The providers for a storage key (`/core/secrets/ns/name`, `/apps/deployments/ns/name`).
    func providers(for key: String) -> [EncryptionConfiguration.Provider]? {
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2 else { return nil }
        let group = parts[0] == "core" ? "" : String(parts[0]), resource = String(parts[1])
        for rule in configuration.rules {
            for name in rule.resources {
                let (ruleResource, ruleGroup): (String, String) = {
                    guard let dot = name.firstIndex(of: ".") else { return (name, "") }
                    return (String(name[..<dot]), String(name[name.index(after: dot)...]))
                }()
                if (ruleResource == "*" || ruleResource == resource) && (ruleGroup == "*" || ruleGroup == group) { return rule.providers }
            }
        }
        return nil
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static let prefix = Array("k8s:enc:".utf8)

    public func toStorage(_ value: [UInt8], key: String) throws -> [UInt8] {
        guard let first = providers(for: key)?.first else { return value }
        switch first {
        case .identity:
            return value
        case .aescbc(let keys):
            var ivBytes = [UInt8](repeating: 0, count: 16)
            var random = SystemRandomNumberGenerator()
            for i in ivBytes.indices { ivBytes[i] = random.next() }
            let sealed = try AES._CBC.encrypt(value, using: SymmetricKey(data: keys[0].secret), iv: try AES._CBC.IV(ivBytes: ivBytes))
            return header("aescbc", keys[0].name) + ivBytes + Array(sealed)
        case .aesgcm(let keys):
            let box = try AES.GCM.seal(value, using: SymmetricKey(data: keys[0].secret))
            return header("aesgcm", keys[0].name) + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
        case .secretbox(let keys):
            var nonce = [UInt8](repeating: 0, count: SecretBox.nonceSize)
            var random = SystemRandomNumberGenerator()
            for i in nonce.indices { nonce[i] = random.next() }
            return header("secretbox", keys[0].name) + nonce + SecretBox.seal(value, nonce: nonce, key: keys[0].secret)
        }
    }

    public func fromStorage(_ stored: [UInt8], key: String) throws -> (value: [UInt8], stale: Bool) {
        let providers = providers(for: key) ?? []
        guard stored.starts(with: Self.prefix) else {
            // Plaintext: readable when identity is a provider (or nothing is configured for it); stale unless
            // identity is the one that writes.
            guard providers.isEmpty || providers.contains(.identity) else {
                throw Failure(description: "\(key) is stored unencrypted, which its providers do not read (add identity to read it)")
            }
            return (stored, providers.first.map { $0 != .identity } ?? false)
        }
        // `k8s:enc:<provider>:v1:<key name>:<data>`, matched against each configured key's whole prefix (key names
        // may hold colons, as k3s's timestamped ones do).
        for (index, provider) in providers.enumerated() {
            for (position, configured) in provider.keys.enumerated() {
                let head = header(provider.name, configured.name)
                guard stored.starts(with: head) else { continue }
                let data = Array(stored[head.count...])
                let secret = SymmetricKey(data: configured.secret)
                let stale = index != 0 || position != 0
                switch provider {
                case .aescbc:
                    guard data.count > 16 else { throw Failure(description: "\(key): encrypted value too short") }
                    let iv = try AES._CBC.IV(ivBytes: data[0..<16])
                    return (Array(try AES._CBC.decrypt(data[16...], using: secret, iv: iv)), stale)
                case .aesgcm:
                    guard data.count >= 28 else { throw Failure(description: "\(key): encrypted value too short") }
                    let box = try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: data[0..<12]), ciphertext: data[12..<(data.count - 16)],
                                                    tag: data[(data.count - 16)...])
                    return (Array(try AES.GCM.open(box, using: secret)), stale)
                case .secretbox:
                    guard data.count >= SecretBox.nonceSize + SecretBox.overhead,
                          let value = SecretBox.open(data[SecretBox.nonceSize...], nonce: Array(data[0..<SecretBox.nonceSize]), key: configured.secret) else {
                        throw Failure(description: "\(key): the secretbox value does not open with key \(configured.name)")
                    }
                    return (value, stale)
                case .identity:
                    continue
                }
            }
        }
        let fields = stored.prefix(96).split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
        let providerName = fields.count > 2 ? String(decoding: fields[2], as: UTF8.self) : "?"
        throw Failure(description: "\(key) is encrypted with a \(providerName) key the encryption configuration does not hold")
    }

    func header(_ provider: String, _ key: String) -> [UInt8] { Array("k8s:enc:\(provider):v1:\(key):".utf8) }

    /// The provider and key a stored value was written with ("identity" for plaintext), nil when none configured.
    public func writer(of stored: [UInt8], key: String) -> String? {
        guard stored.starts(with: Self.prefix) else { return "identity" }
        for provider in providers(for: key) ?? [] {
            for configured in provider.keys where stored.starts(with: header(provider.name, configured.name)) { return "\(provider.name) key \(configured.name)" }
        }
        return nil
    }
}
