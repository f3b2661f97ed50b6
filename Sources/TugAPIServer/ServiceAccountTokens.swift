import Crypto
import Foundation
import TugAPIMachinery

/// Service-account tokens: ES256-signed JWTs with the claims Kubernetes puts in them, bound (as upstream's
/// TokenRequest tokens) to the pod or secret they were made for, and to that pod's node.
struct ServiceAccountTokens: Sendable {
    /// kube-apiserver's default `--service-account-issuer` (also the default API audience).
    static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"
    let issuer: String
    /// Raw private key bytes: swift-crypto keys are not Sendable, so the key is rebuilt where it is used.
    let keyBytes: [UInt8]
    /// The public key's bytes, derived once (verifying with it is what every authenticated request does).
    let publicKeyBytes: [UInt8]
    let verified = VerifiedTokenCache()

    init(pem: String, issuer: String = ServiceAccountTokens.defaultIssuer) throws {
        let key = try P256.Signing.PrivateKey(pemRepresentation: pem)
        keyBytes = Array(key.rawRepresentation)
        publicKeyBytes = Array(key.publicKey.rawRepresentation)
        self.issuer = issuer
    }

    func key() throws -> P256.Signing.PrivateKey {
        try P256.Signing.PrivateKey(rawRepresentation: keyBytes)
    }

    struct Claims: Sendable, Equatable {
        var namespace: String
        var name: String
        var uid: String
        var audiences: [String]
        var expires: Date
        /// The object the token is bound to (`Pod` or `Secret`), and for a pod its node.
        var bound: BoundObject?
        var node: BoundObject?
        /// The token's own ID (`jti`), reported as `authentication.kubernetes.io/credential-id`.
        var id = UUID().uuidString.lowercased()
    }

    struct BoundObject: Sendable, Equatable {
        var kind: String
        var name: String
        var uid: String
    }

    func issue(_ claims: Claims, now: Date) throws -> String {
        let header: JSONValue = ["alg": "ES256", "typ": "JWT", "kid": .string(try keyID())]
        let payload: JSONValue = [
            "iss": .string(issuer), "sub": .string("system:serviceaccount:\(claims.namespace):\(claims.name)"),
            "aud": .array(claims.audiences.map(JSONValue.string)),
            "iat": .int(Int64(now.timeIntervalSince1970)), "nbf": .int(Int64(now.timeIntervalSince1970)),
            "exp": .int(Int64(claims.expires.timeIntervalSince1970)), "jti": .string(claims.id),
            "kubernetes.io": Self.private(claims),
        ]
        let signingInput = Self.base64URL(JSONWriter.bytes(header)) + "." + Self.base64URL(JSONWriter.bytes(payload))
        let signature = try key().signature(for: Data(signingInput.utf8))
        return signingInput + "." + Self.base64URL(Array(signature.rawRepresentation))
    }

    /// The claims of a token this server signed, if its signature holds and it has not expired.
    func verify(_ token: String, now: Date) -> Claims? {
        if let known = verified.claims(for: token) {
            return known.claims.expires > now && known.notBefore <= now.addingTimeInterval(60) ? known.claims : nil
        }
        guard let (claims, notBefore) = verifySignature(token, now: now) else { return nil }
        verified.remember(token, claims, notBefore: notBefore)
        return claims
    }

    /// The claims (and `nbf`) of a token whose signature holds and whose time has come and not passed.
    func verifySignature(_ token: String, now: Date) -> (Claims, notBefore: Date)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signatureBytes = Self.decodeBase64URL(String(parts[2])),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              let publicKey = try? P256.Signing.PublicKey(rawRepresentation: publicKeyBytes),
              publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)),
              let payloadBytes = Self.decodeBase64URL(String(parts[1])),
              let payload = try? JSONParser.parseValue(payloadBytes),
              payload["iss"].stringValue == issuer,
              let exp = payload["exp"].intValue, Double(exp) > now.timeIntervalSince1970,
              (payload["nbf"].intValue ?? 0) <= Int64(now.timeIntervalSince1970) + 60 else { return nil }
        let k8s = payload["kubernetes.io"]
        guard let namespace = k8s["namespace"].stringValue, let name = k8s["serviceaccount"]["name"].stringValue,
              let uid = k8s["serviceaccount"]["uid"].stringValue else { return nil }
        func bound(_ kind: String, _ key: String) -> BoundObject? {
            guard let name = k8s[key]["name"].stringValue, let uid = k8s[key]["uid"].stringValue else { return nil }
            return BoundObject(kind: kind, name: name, uid: uid)
        }
        let claims = Claims(namespace: namespace, name: name, uid: uid, audiences: payload["aud"].arrayValue?.compactMap(\.stringValue) ?? [],
                            expires: Date(timeIntervalSince1970: Double(exp)), bound: bound("Pod", "pod") ?? bound("Secret", "secret"),
                            node: bound("Node", "node"), id: payload["jti"].stringValue ?? "")
        return (claims, Date(timeIntervalSince1970: Double(payload["nbf"].intValue ?? 0)))
    }

    /// The `kubernetes.io` claim: namespace, service account, and the bound pod (with its node) or secret.
    static func `private`(_ claims: Claims) -> JSONValue {
        var k8s: JSONValue = ["namespace": .string(claims.namespace), "serviceaccount": ["name": .string(claims.name), "uid": .string(claims.uid)]]
        if let bound = claims.bound { k8s[bound.kind.lowercased()] = ["name": .string(bound.name), "uid": .string(bound.uid)] }
        if let node = claims.node { k8s["node"] = ["name": .string(node.name), "uid": .string(node.uid)] }
        return k8s
    }

    /// The OIDC discovery document (`/.well-known/openid-configuration`), as kube-apiserver serves it.
    func discovery(jwksURI: String) -> JSONValue {
        ["issuer": .string(issuer), "jwks_uri": .string(jwksURI), "response_types_supported": ["id_token"],
         "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["ES256"]]
    }

    /// The signing key as a JSON Web Key Set (`/openid/v1/jwks`).
    func jwks() throws -> JSONValue {
        let raw = Array(try key().publicKey.rawRepresentation)
        return ["keys": [["use": "sig", "kty": "EC", "kid": .string(try keyID()), "crv": "P-256", "alg": "ES256",
                          "x": .string(Self.base64URL(Array(raw[0..<32]))), "y": .string(Self.base64URL(Array(raw[32..<64])))]]]
    }

    func keyID() throws -> String {
        Self.base64URL(Array(SHA256.hash(data: try key().publicKey.derRepresentation)))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Base64.encode(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        Base64.decode(text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"))
    }
}
