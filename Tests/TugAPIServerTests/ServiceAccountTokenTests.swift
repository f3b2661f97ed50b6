import Crypto
import Foundation
import Testing
@testable import TugAPIServer

@Suite struct ServiceAccountTokenTests {
    let tokens: ServiceAccountTokens
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    let claims: ServiceAccountTokens.Claims

    init() throws {
        tokens = try ServiceAccountTokens(pem: P256.Signing.PrivateKey().pemRepresentation)
        claims = .init(namespace: "team", name: "default", uid: "u-1", audiences: [ServiceAccountTokens.defaultIssuer], expires: now.addingTimeInterval(3600))
    }

    @Test func issuedTokensVerify() throws {
        let token = try tokens.issue(claims, now: now)
        #expect(token.split(separator: ".").count == 3)
        #expect(tokens.verify(token, now: now) == claims)
    }

    @Test func verifiedTokensAreRememberedButStillExpire() throws {
        let token = try tokens.issue(claims, now: now)
        #expect(tokens.verify(token, now: now) == claims && tokens.verified.count == 1)
        #expect(tokens.verify(token, now: now.addingTimeInterval(10)) == claims && tokens.verified.count == 1, "the second use is a lookup")
        #expect(tokens.verify(token, now: now.addingTimeInterval(3601)) == nil, "a remembered token still expires")
        #expect(tokens.verify(token, now: now.addingTimeInterval(-120)) == nil, "and is not good before its nbf")
        var flipped = Array(token.utf8)
        flipped[flipped.count - 2] = flipped[flipped.count - 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(tokens.verify(String(decoding: flipped, as: UTF8.self), now: now) == nil, "another token is verified on its own")
        let small = VerifiedTokenCache(capacity: 2)
        for name in ["a", "b", "c"] { small.remember(name, claims, notBefore: now) }
        #expect(small.count == 2 && small.claims(for: "a") == nil && small.claims(for: "c")?.claims == claims, "the oldest goes first")
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

    @Test func boundClaimsRoundTripAndIssuersMustMatch() throws {
        var bound = claims
        bound.bound = .init(kind: "Pod", name: "web-0", uid: "p-1")
        bound.node = .init(kind: "Node", name: "n1", uid: "n-1")
        let token = try tokens.issue(bound, now: now)
        #expect(tokens.verify(token, now: now) == bound)
        let elsewhere = try ServiceAccountTokens(pem: P256.Signing.PrivateKey().pemRepresentation, issuer: "https://issuer.example")
        let foreign = try elsewhere.issue(claims, now: now)
        #expect(elsewhere.verify(foreign, now: now) != nil && tokens.verify(foreign, now: now) == nil)
        let jwks = try tokens.jwks()
        #expect(jwks["keys"][0]["kid"].stringValue == (try tokens.keyID()))
    }
}
