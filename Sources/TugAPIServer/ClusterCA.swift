import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority with its private key: issues the client certificates users and components
/// authenticate with (CN is the user, each O a group, as kube-apiserver's x509 authenticator reads them).
public struct ClusterCA: Sendable {
    public let certificatePEM: String
    /// Raw key bytes (swift-crypto keys are not Sendable; the key is rebuilt where it signs).
    let keyBytes: [UInt8]

    public init(certificatePEM: String, keyPEM: String) throws {
        self.certificatePEM = certificatePEM
        keyBytes = Array(try P256.Signing.PrivateKey(pemRepresentation: keyPEM).rawRepresentation)
    }

    public enum Usage: Sendable { case client, server }

    public struct Issued: Sendable {
        public var certificatePEM: String
        public var keyPEM: String
    }

    /// A new key and a certificate for it, valid for `days` from an hour ago.
    public func issue(commonName: String, organizations: [String] = [], usage: Usage, hosts: [String] = [],
                      days: Int = 365, now: Date = Date()) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let pem = try sign(publicKey: .init(key.publicKey), commonName: commonName, organizations: organizations, usage: usage,
                           hosts: hosts, days: days, now: now)
        return (pem, key.pemRepresentation)
    }

    /// A certificate for someone else's public key (a CertificateSigningRequest's).
    public func sign(publicKey: Certificate.PublicKey, commonName: String, organizations: [String], usage: Usage, hosts: [String] = [],
                     days: Int, now: Date = Date()) throws -> String {
        let caKey = try P256.Signing.PrivateKey(rawRepresentation: keyBytes)
        let ca = try Certificate(pemEncoded: certificatePEM)
        let subject = try DistinguishedName {
            for organization in organizations { OrganizationName(organization) }
            CommonName(commonName)
        }
        var names: [GeneralName] = []
        for host in hosts {
            if let ip = ClusterCredentials.IPv4(host) { names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) } else { names.append(.dnsName(host)) }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: usage == .server))
            try ExtendedKeyUsage([usage == .client ? .clientAuth : .serverAuth])
            if !names.isEmpty { SubjectAlternativeNames(names) }
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: .init(caKey.publicKey)).keyIdentifier)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
            issuer: ca.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(caKey))
        return try certificate.serializeAsPEM().pemString
    }

    /// Whether a certificate (PEM) expires within `days` (k3s renews within 90 days of expiry), or cannot be read.
    public static func expires(_ pem: String, within days: Int, now: Date = Date()) -> Bool {
        guard let certificate = try? Certificate(pemEncoded: pem) else { return true }
        return certificate.notValidAfter < now.addingTimeInterval(Double(days) * 86400)
    }
}

/// The user a verified client certificate names: CN the user, each O a group (kube-apiserver's x509 request
/// authenticator), accepted only with the clientAuth usage.
enum ClientCertificateIdentity {
    static func user(derBytes: [UInt8]) -> (name: String, groups: [String])? {
        guard let certificate = try? Certificate(derEncoded: derBytes),
              let usages = try? certificate.extensions.extendedKeyUsage, usages.contains(.clientAuth) else { return nil }
        let (name, groups) = names(certificate.subject)
        guard let name, !name.isEmpty else { return nil }
        return (name, groups)
    }

    /// The common name and organizations of a subject.
    static func names(_ subject: DistinguishedName) -> (commonName: String?, organizations: [String]) {
        var name: String?
        var groups: [String] = []
        for rdn in subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { name = String(describing: attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(String(describing: attribute.value)) }
            }
        }
        return (name, groups)
    }
}
