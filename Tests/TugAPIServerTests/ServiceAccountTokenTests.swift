import Crypto
import Foundation
import Testing
@testable import TugAPIServer

@Suite struct ServiceAccountTokenTests {
    let tokens: ServiceAccountTokens
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        tokens = try ServiceAccountTokens(pem: P256.Signing.PrivateKey().pemRepresentation)
    }

    var claims: ServiceAccountTokens.Claims {
        .init(namespace: "team", name: "default", uid: "u-1", audiences: [ServiceAccountTokens.issuer], expires: now.addingTimeInterval(3600))
    }

    @Test func issuedTokensVerify() throws {
        let token = try tokens.issue(claims, now: now)
        #expect(token.split(separator: ".").count == 3)
        #expect(tokens.verify(token, now: now) == claims)
    }

    @Test func expiredTamperedAndForeignTokensDoNot() throws {
        let token = try tokens.issue(claims, now: now)
        #expect(tokens.verify(token, now: now.addingTimeInterval(3601)) == nil)
        var parts = token.split(separator: ".").map(String.init)
        var forged = claims
        forged.name = "admin"
        parts[1] = try tokens.issue(forged, now: now).split(separator: ".").map(String.init)[1]
        #expect(tokens.verify(parts.joined(separator: "."), now: now) == nil)
        let other = try ServiceAccountTokens(pem: P256.Signing.PrivateKey().pemRepresentation)
        #expect(other.verify(token, now: now) == nil)
        #expect(tokens.verify("not.a.jwt", now: now) == nil)
    }
}
