import Testing
import X509
@testable import TugAPIServer

/// The cluster's certificates pass strict verifiers: Python 3.13's default TLS context (OpenSSL's X509_STRICT)
/// refuses a certificate without an Authority Key Identifier, so the Python clients could not connect.
@Suite struct PKITests {
    @Test func certificatesCarryMatchingKeyIdentifiers() throws {
        let (credentials, _) = try ClusterCredentials.generate(hosts: ["127.0.0.1", "tug.example"])
        let ca = try Certificate(pemEncoded: credentials.caPEM)
        let serving = try Certificate(pemEncoded: credentials.servingCertificatePEM)
        let caKeyID = try #require(try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
        #expect(try ca.extensions.authorityKeyIdentifier?.keyIdentifier == caKeyID)
        #expect(try serving.extensions.authorityKeyIdentifier?.keyIdentifier == caKeyID)
        #expect(try serving.extensions.subjectKeyIdentifier != nil)
        #expect(serving.issuer == ca.subject)
    }
}
