import Crypto
import Foundation
import X509

/// The agent endpoint's serving identity: a self-signed certificate made at start-up. The API server authenticates
/// to the agent with the node token; like kube-apiserver without `--kubelet-certificate-authority`, it does not
/// verify this certificate.
public enum AgentCertificate {
    public static func selfSigned(hostname: String = ProcessInfo.processInfo.hostName) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let name = try DistinguishedName { CommonName("\(hostname)@\(Int(now.timeIntervalSince1970))") }
        let keyID = SubjectKeyIdentifier(hash: .init(key.publicKey))
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(hostname), .dnsName("localhost")])
                keyID
                AuthorityKeyIdentifier(keyIdentifier: keyID.keyIdentifier)
            },
            issuerPrivateKey: .init(key))
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }
}
