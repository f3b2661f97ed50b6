import Foundation
import Testing
import TugAPIMachinery
import TugEncryption

@Suite struct EncryptionTests {
    let old = EncryptionConfiguration.Key(name: "aescbckey-2026-01-01T00:00:00Z", secret: Array(repeating: 1, count: 32))
    let new = EncryptionConfiguration.Key(name: "aescbckey-2026-06-01T00:00:00Z", secret: Array(repeating: 2, count: 32))
    let secret = Array(#"{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}"#.utf8)
    let key = "/core/secrets/default/db"

    func transformer(_ providers: [EncryptionConfiguration.Provider]) -> EncryptionTransformer {
        EncryptionTransformer(EncryptionConfiguration(rules: [.init(resources: ["secrets"], providers: providers)]))
    }

    @Test func aescbcAndAesgcmRoundTripInUpstreamsFormat() throws {
        for provider in [EncryptionConfiguration.Provider.aescbc(keys: [old]), .aesgcm(keys: [old]), .secretbox(keys: [old])] {
            let t = transformer([provider])
            let stored = try t.toStorage(secret, key: key)
            #expect(stored.starts(with: Array("k8s:enc:\(provider.name):v1:\(old.name):".utf8)))
            #expect(!String(decoding: stored, as: UTF8.self).contains("aHVudGVyMg"))
            let read = try t.fromStorage(stored, key: key)
            #expect(read.value == secret && !read.stale)
        }
    }

    /// NaCl's own output for key 1×32, nonce 2×24, message 3×64 (the vector golang.org/x/crypto tests against).
    @Test func secretboxMatchesNaCl() throws {
        let key = [UInt8](repeating: 1, count: 32), nonce = [UInt8](repeating: 2, count: 24), message = [UInt8](repeating: 3, count: 64)
        let box = SecretBox.seal(message, nonce: nonce, key: key)
        let expected = "8442bc313f4626f1359e3b50122b6ce6fe66ddfe7d39d14e637eb4fd5b45beadab55198df6ab5368439792a23c87db70acb6156dc5ef957ac04f6276cf6093b84be77ff0849cc33e34b7254d5a8f65ad"
        #expect(box.map { String(format: "%02x", $0) }.joined() == expected)
        #expect(SecretBox.open(box, nonce: nonce, key: key) == message)
        for length in stride(from: 0, to: 130, by: 17) {
            let text = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let sealed = SecretBox.seal(text, nonce: nonce, key: key)
            #expect(sealed.count == length + 16 && SecretBox.open(sealed, nonce: nonce, key: key) == text)
        }
        for i in box.indices {
            var corrupted = box
            corrupted[i] ^= 0x20
            #expect(SecretBox.open(corrupted, nonce: nonce, key: key) == nil, "byte \(i) changed")
        }
        #expect(SecretBox.open(box, nonce: nonce, key: [UInt8](repeating: 9, count: 32)) == nil)
    }

    @Test func rotationReadsOldKeysAsStaleAndPlaintextOnlyWithIdentity() throws {
        let before = try transformer([.aescbc(keys: [old])]).toStorage(secret, key: key)
        let rotated = transformer([.aescbc(keys: [new, old]), .identity])
        let read = try rotated.fromStorage(before, key: key)
        #expect(read.value == secret && read.stale)
        #expect(try rotated.fromStorage(secret, key: key) == (secret, true))
        #expect(throws: EncryptionTransformer.Failure.self) { try transformer([.aescbc(keys: [new])]).fromStorage(secret, key: key) }
        #expect(throws: EncryptionTransformer.Failure.self) { try transformer([.aescbc(keys: [new])]).fromStorage(before, key: key) }
        // Other resources are stored as they are.
        let configMap = Array("{}".utf8)
        #expect(try rotated.toStorage(configMap, key: "/core/configmaps/default/c") == configMap)
        #expect(try rotated.fromStorage(configMap, key: "/core/configmaps/default/c") == (configMap, false))
    }

    @Test func configurationFilesParseAsKubeApiserversDo() throws {
        let text = """
            apiVersion: apiserver.config.k8s.io/v1
            kind: EncryptionConfiguration
            resources:
            - resources: [secrets, "*.apps"]
              providers:
              - aesgcm: {keys: [{name: k1, secret: MTIzNDU2Nzg5MDEyMzQ1Ng==}]}
              - identity: {}
            """
        let configuration = try EncryptionConfiguration.parse(text)
        #expect(configuration.rules[0].providers.map(\.name) == ["aesgcm", "identity"])
        let t = EncryptionTransformer(configuration)
        #expect(try t.toStorage(secret, key: "/apps/deployments/default/web").starts(with: Array("k8s:enc:aesgcm:v1:k1:".utf8)))
        #expect(throws: EncryptionConfiguration.Failure.self) { try EncryptionConfiguration.parse(text.replacingOccurrences(of: "MTIzNDU2Nzg5MDEyMzQ1Ng==", with: "c2hvcnQ=")) }
        let generated = EncryptionConfiguration.generated()
        #expect(try EncryptionConfiguration.parse(String(decoding: JSONWriter.bytes(generated.json), as: UTF8.self)) == generated)
    }
}
