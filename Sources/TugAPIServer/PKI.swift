public import Crypto
import Foundation
import SwiftASN1
import TugClient
import X509

/// The cluster's certificate authority, serving certificate and admin token, created on first start under
/// `<data-dir>/server/tls` and reused afterwards.
public struct ClusterCredentials: Sendable {
    public init(caPEM: String, servingCertificatePEM: String, servingKeyPEM: String, adminToken: String,
                serviceAccountKeyPEM: String = P256.Signing.PrivateKey().pemRepresentation) {
        self.caPEM = caPEM
        self.servingCertificatePEM = servingCertificatePEM
        self.servingKeyPEM = servingKeyPEM
        self.adminToken = adminToken
        self.serviceAccountKeyPEM = serviceAccountKeyPEM
        nodeToken = NodeJoinToken(caPEM: caPEM, secret: "").description
    }

    public var caPEM: String { didSet { nodeToken = NodeJoinToken(caPEM: caPEM, secret: nodeSecret).description } }
    public var servingCertificatePEM: String
    public var servingKeyPEM: String
    public var adminToken: String
    /// Signs service-account tokens (ES256 JWTs).
    public var serviceAccountKeyPEM: String
    /// The secret nodes join with (`tug agent --token`); see `NodeJoinToken`.
    public var nodeSecret: String = "" { didSet { nodeToken = NodeJoinToken(caPEM: caPEM, secret: nodeSecret).description } }

    /// The join token printed for `tug agent --token`: it names the CA, so the agent can trust the server it fetches.
    /// Kept, not derived on each use: every request from a node compares against it, and deriving it hashes the CA.
    public private(set) var nodeToken: String

    public static func loadOrCreate(directory: String, hosts: [String]) throws -> ClusterCredentials {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let paths = ["ca.crt", "serving.crt", "serving.key", "admin.token", "service-account.key"].map { "\(directory)/\($0)" }
        if paths.allSatisfy(fm.fileExists(atPath:)) {
            let texts = try paths.map { try String(contentsOfFile: $0, encoding: .utf8) }
            var credentials = ClusterCredentials(caPEM: texts[0], servingCertificatePEM: texts[1], servingKeyPEM: texts[2],
                                                 adminToken: texts[3].trimmingCharacters(in: .whitespacesAndNewlines), serviceAccountKeyPEM: texts[4])
            credentials.nodeSecret = try loadOrCreateSecret("\(directory)/node.secret")
            return credentials
        }
        var credentials = try generate(hosts: hosts)
        credentials.nodeSecret = try loadOrCreateSecret("\(directory)/node.secret")
        for (path, text, mode) in [(paths[0], credentials.caPEM, 0o644), (paths[1], credentials.servingCertificatePEM, 0o644),
                                   (paths[2], credentials.servingKeyPEM, 0o600), (paths[3], credentials.adminToken + "\n", 0o600),
                                   (paths[4], credentials.serviceAccountKeyPEM, 0o600)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }
        return credentials
    }

    static func randomHex(bytes: Int) -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    }

    static func loadOrCreateSecret(_ path: String) throws -> String {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let secret = randomHex(bytes: 24)
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return secret
    }

    static func generate(hosts: [String]) throws -> ClusterCredentials {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("tugboat-server-ca@\(Int(now.timeIntervalSince1970))") }
        // Key identifiers on both certificates: strict verifiers (Python 3.13's default context, OpenSSL's
        // X509_V_FLAG_X509_STRICT) refuse a certificate without an Authority Key Identifier.
        let caKeyID = SubjectKeyIdentifier(hash: .init(caKey.publicKey))
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                caKeyID
                AuthorityKeyIdentifier(keyIdentifier: caKeyID.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))

        let key = P256.Signing.PrivateKey()
        var names: [GeneralName] = []
        for host in Set(hosts + ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "127.0.0.1", "10.43.0.1"]).sorted() {
            if let ip = IPv4(host) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) } else { names.append(.dnsName(host)) }
        }
        let serving = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName, subject: try DistinguishedName { CommonName("kube-apiserver") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: .init(key.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: caKeyID.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))

        let token = randomHex(bytes: 32)
        return ClusterCredentials(caPEM: try ca.serializeAsPEM().pemString, servingCertificatePEM: try serving.serializeAsPEM().pemString,
                                  servingKeyPEM: key.pemRepresentation, adminToken: token,
                                  serviceAccountKeyPEM: P256.Signing.PrivateKey().pemRepresentation)
    }

    static func IPv4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        return parts.count == 4 && s.split(separator: ".", omittingEmptySubsequences: false).count == 4 ? parts : nil
    }

    /// A kubeconfig for the admin user, with the CA embedded, as kubectl reads it.
    public func kubeconfig(server: String) -> String {
        let ca = Data(caPEM.utf8).base64EncodedString()
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: \(ca)
                server: \(server)
              name: tugboat
            contexts:
            - context:
                cluster: tugboat
                user: admin
              name: tugboat
            current-context: tugboat
            preferences: {}
            users:
            - name: admin
              user:
                token: \(adminToken)

            """
    }
}
