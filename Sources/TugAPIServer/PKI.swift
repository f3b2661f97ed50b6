public import Crypto
import Foundation
import SwiftASN1
import TugClient
import X509

/// The cluster's certificate authority (with its key, 0600), serving certificate, admin client certificate and
/// admin token, created on first start under `<data-dir>/server/tls` and reused afterwards; certificates within 90
/// days of expiry are issued again at start (as k3s renews them).
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
    /// The CA with its key: nil for a data dir made before the key was kept (nothing new can be signed there).
    public var ca: ClusterCA?
    /// The admin's client certificate (CN admin, O system:masters), which the admin kubeconfig presents.
    public var adminCertificatePEM: String?
    public var adminKeyPEM: String?
    /// The secret nodes join with (`tug agent --token`); see `NodeJoinToken`.
    public var nodeSecret: String = "" { didSet { nodeToken = NodeJoinToken(caPEM: caPEM, secret: nodeSecret).description } }

    /// The join token printed for `tug agent --token`: it names the CA, so the agent can trust the server it fetches.
    /// Kept, not derived on each use: every request from a node compares against it, and deriving it hashes the CA.
    public private(set) var nodeToken: String

    public static func loadOrCreate(directory: String, hosts: [String]) throws -> ClusterCredentials {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let paths = ["ca.crt", "serving.crt", "serving.key", "admin.token", "service-account.key"].map { "\(directory)/\($0)" }
        var credentials: ClusterCredentials
        // The CA and the secrets decide whether this cluster exists; leaf certificates may be gone (rotated) and
        // are issued again below.
        if [paths[0], paths[3], paths[4]].allSatisfy(fm.fileExists(atPath:)) {
            let texts = paths.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }
            credentials = ClusterCredentials(caPEM: texts[0], servingCertificatePEM: texts[1], servingKeyPEM: texts[2],
                                             adminToken: texts[3].trimmingCharacters(in: .whitespacesAndNewlines), serviceAccountKeyPEM: texts[4])
            if let keyPEM = try? String(contentsOfFile: "\(directory)/ca.key", encoding: .utf8) {
                credentials.ca = try ClusterCA(certificatePEM: texts[0], keyPEM: keyPEM)
            }
        } else {
            let (generated, caKeyPEM) = try generate(hosts: hosts)
            credentials = generated
            for (path, text, mode) in [(paths[0], credentials.caPEM, 0o644), (paths[1], credentials.servingCertificatePEM, 0o644),
                                       (paths[2], credentials.servingKeyPEM, 0o600), (paths[3], credentials.adminToken + "\n", 0o600),
                                       (paths[4], credentials.serviceAccountKeyPEM, 0o600), ("\(directory)/ca.key", caKeyPEM, 0o600)] {
                try write(text, to: path, mode: mode)
            }
            credentials.ca = try ClusterCA(certificatePEM: credentials.caPEM, keyPEM: caKeyPEM)
        }
        credentials.nodeSecret = try loadOrCreateSecret("\(directory)/node.secret")
        if let ca = credentials.ca {
            try credentials.renew(with: ca, directory: directory, hosts: hosts)
        } else if credentials.servingCertificatePEM.isEmpty || credentials.servingKeyPEM.isEmpty {
            throw Missing(description: "\(directory)/serving.crt is gone and this data dir has no CA key (ca.key) to issue it again")
        }
        return credentials
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// Loads the admin client certificate, and issues it and the serving certificate again when missing or
    /// within 90 days of expiry.
    mutating func renew(with ca: ClusterCA, directory: String, hosts: [String]) throws {
        let certPath = "\(directory)/admin.crt", keyPath = "\(directory)/admin.key"
        if let cert = try? String(contentsOfFile: certPath, encoding: .utf8), let key = try? String(contentsOfFile: keyPath, encoding: .utf8),
           !ClusterCA.expires(cert, within: 90) {
            (adminCertificatePEM, adminKeyPEM) = (cert, key)
        } else {
            let issued = try ca.issue(commonName: "admin", organizations: ["system:masters"], usage: .client)
            try Self.write(issued.keyPEM, to: keyPath, mode: 0o600)
            try Self.write(issued.certificatePEM, to: certPath, mode: 0o644)
            (adminCertificatePEM, adminKeyPEM) = (issued.certificatePEM, issued.keyPEM)
        }
        if ClusterCA.expires(servingCertificatePEM, within: 90) {
            let issued = try ca.issue(commonName: "kube-apiserver", usage: .server, hosts: Self.servingHosts(hosts))
            try Self.write(issued.keyPEM, to: "\(directory)/serving.key", mode: 0o600)
            try Self.write(issued.certificatePEM, to: "\(directory)/serving.crt", mode: 0o644)
            (servingCertificatePEM, servingKeyPEM) = (issued.certificatePEM, issued.keyPEM)
        }
    }

    /// The names the serving certificate covers: the given hosts and the in-cluster names of the API.
    static func servingHosts(_ hosts: [String]) -> [String] {
        Set(hosts + ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "127.0.0.1", "10.43.0.1"]).sorted()
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

    static func generate(hosts: [String]) throws -> (ClusterCredentials, caKeyPEM: String) {
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
        for host in servingHosts(hosts) {
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
        return (ClusterCredentials(caPEM: try ca.serializeAsPEM().pemString, servingCertificatePEM: try serving.serializeAsPEM().pemString,
                                   servingKeyPEM: key.pemRepresentation, adminToken: token,
                                   serviceAccountKeyPEM: P256.Signing.PrivateKey().pemRepresentation), caKey.pemRepresentation)
    }

    static func IPv4(_ s: String) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        return parts.count == 4 && s.split(separator: ".", omittingEmptySubsequences: false).count == 4 ? parts : nil
    }

    /// A kubeconfig for the admin user, with the CA embedded, as kubectl reads it: the admin's client certificate,
    /// or the admin token in a data dir whose CA cannot sign.
    public func kubeconfig(server: String) -> String {
        let ca = Data(caPEM.utf8).base64EncodedString()
        let user: String
        if let adminCertificatePEM, let adminKeyPEM {
            user = """
                    client-certificate-data: \(Data(adminCertificatePEM.utf8).base64EncodedString())
                    client-key-data: \(Data(adminKeyPEM.utf8).base64EncodedString())
                """
        } else {
            user = "        token: \(adminToken)"
        }
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
            \(user)

            """
    }
}
