import Crypto
import Foundation
import Logging
import SwiftASN1
public import TugAPIMachinery
public import TugClient
import X509

/// A node's own certificates, as the kubelet gets them: a key made on the node, a CertificateSigningRequest for
/// `system:node:<name>` in `system:nodes` (client: the kube-apiserver-client-kubelet signer, auto-approved for
/// bootstrappers and for the node itself; serving: the kubelet-serving signer, with the node's addresses), and the
/// certificate the signer issues. Pairs are kept under the agent's directory (0600) and requested again within 90
/// days of expiry.
public enum NodeCertificates {
    public struct Pair: Sendable {
        public var certificatePEM: String
        public var keyPEM: String
        public init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }
    }

    public static let clientSigner = "kubernetes.io/kube-apiserver-client-kubelet"
    public static let servingSigner = "kubernetes.io/kubelet-serving"

    /// The stored pair `name` (`client`, `serving`) if it is for `nodeName`, covers `hosts` and is not near expiry.
    public static func load(directory: String, name: String, nodeName: String, hosts: [String] = []) -> Pair? {
        guard let certificatePEM = try? String(contentsOfFile: "\(directory)/\(name).crt", encoding: .utf8),
              let keyPEM = try? String(contentsOfFile: "\(directory)/\(name).key", encoding: .utf8),
              let certificate = try? Certificate(pemEncoded: certificatePEM),
              certificate.notValidAfter > Date().addingTimeInterval(90 * 86400),
              certificate.subject.description.contains("CN=system:node:\(nodeName)") else { return nil }
        let names = (try? certificate.extensions.subjectAlternativeNames).flatMap { $0 }.map(Array.init) ?? []
        let covered = hosts.allSatisfy { host in
            names.contains { name in
                switch name {
                case .dnsName(let dns): return dns == host
                case .ipAddress(let bytes): return bytes.bytes.map(String.init).joined(separator: ".") == host
                default: return false
                }
            }
        }
        return covered ? Pair(certificatePEM: certificatePEM, keyPEM: keyPEM) : nil
    }

    public static func save(_ pair: Pair, directory: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (path, text) in [("\(directory)/\(name).key", pair.keyPEM), ("\(directory)/\(name).crt", pair.certificatePEM)] {
            let temporary = path + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw NodeCertificateError(description: "cannot write \(temporary)")
            }
            guard rename(temporary, path) == 0 else { throw NodeCertificateError(description: "cannot replace \(path): errno \(errno)") }
        }
    }

    /// Asks the cluster for a certificate and waits (up to `timeout`) for it to be issued.
    public static func request(client: RESTClient, signer: String, nodeName: String, hosts: [String] = [], logger: Logger,
                               timeout: Duration = .seconds(120)) async throws -> Pair {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("system:nodes")
            CommonName("system:node:\(nodeName)")
        }
        var attributes = CertificateSigningRequest.Attributes()
        if !hosts.isEmpty {
            let names: [GeneralName] = hosts.map { host in
                let parts = host.split(separator: ".").compactMap { UInt8($0) }
                return parts.count == 4 ? .ipAddress(ASN1OctetString(contentBytes: ArraySlice(parts))) : .dnsName(host)
            }
            attributes.insert(try .init(ExtensionRequest(extensions: try Certificate.Extensions { SubjectAlternativeNames(names) })))
        }
        let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: .init(key), attributes: attributes,
                                                signatureAlgorithm: .ecdsaWithSHA256)
        let usages: [JSONValue] = ["digital signature", signer == servingSigner ? "server auth" : "client auth"]
        let object: JSONValue = [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": ["generateName": "csr-"],
            "spec": ["request": .string(Base64.encode(Array(try csr.serializeAsPEM().pemString.utf8))), "signerName": .string(signer),
                     "usages": .array(usages)],
        ]
        let created = try await client.create("/apis/certificates.k8s.io/v1/certificatesigningrequests", object)
        let name = created["metadata"]["name"].stringValue ?? ""
        logger.info("requested a node certificate", metadata: ["csr": "\(name)", "signer": "\(signer)"])
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = try await client.send(.GET, "/apis/certificates.k8s.io/v1/certificatesigningrequests/\(name)")
            if let encoded = current["status"]["certificate"].stringValue, let bytes = Base64.decode(encoded), !bytes.isEmpty {
                return Pair(certificatePEM: String(decoding: bytes, as: UTF8.self), keyPEM: key.pemRepresentation)
            }
            let conditions = current["status"]["conditions"].arrayValue ?? []
            if let refusal = conditions.first(where: { ["Denied", "Failed"].contains($0["type"].stringValue ?? "") }) {
                throw NodeCertificateError(description: "certificate request \(name) was \(refusal["type"].stringValue ?? ""): \(refusal["message"].stringValue ?? "")")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw NodeCertificateError(description: "certificate request \(name) was not issued within \(timeout) (is it awaiting approval? kubectl certificate approve \(name))")
    }

    /// The stored pair, or a new one requested and stored.
    public static func obtain(client: RESTClient, signer: String, nodeName: String, hosts: [String] = [], directory: String, name: String,
                              logger: Logger) async throws -> Pair {
        if let pair = load(directory: directory, name: name, nodeName: nodeName, hosts: hosts) { return pair }
        let pair = try await request(client: client, signer: signer, nodeName: nodeName, hosts: hosts, logger: logger)
        try save(pair, directory: directory, name: name)
        return pair
    }
}

public struct NodeCertificateError: Error, CustomStringConvertible {
    public let description: String
}
