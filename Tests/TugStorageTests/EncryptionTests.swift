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
        for provider in [EncryptionConfiguration.Provider.aescbc(keys: [old]), .aesgcm(keys: [old])] {
            let t = transformer([provider])
            let stored = try t.toStorage(secret, key: key)
            #expect(stored.starts(with: Array("k8s:enc:\(provider.name):v1:\(old.name):".utf8)))
            #expect(!String(decoding: stored, as: UTF8.self).contains("aHVudGVyMg"))
            let read = try t.fromStorage(stored, key: key)
            #expect(read.value == secret && !read.stale)
        }
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
