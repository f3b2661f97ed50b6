import Crypto
import Foundation
import TugAPIMachinery

/// Service-account tokens: ES256-signed JWTs with the claims Kubernetes puts in them.
struct ServiceAccountTokens: Sendable {
    static let issuer = "https://kubernetes.default.svc.cluster.local"
    /// Raw private key bytes: swift-crypto keys are not Sendable, so the key is rebuilt where it is used.
    let keyBytes: [UInt8]

    init(pem: String) throws {
        keyBytes = Array(try P256.Signing.PrivateKey(pemRepresentation: pem).rawRepresentation)
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
    }

    func issue(_ claims: Claims, now: Date) throws -> String {
        let header: JSONValue = ["alg": "ES256", "typ": "JWT", "kid": .string(try keyID())]
        let payload: JSONValue = [
            "iss": .string(Self.issuer), "sub": .string("system:serviceaccount:\(claims.namespace):\(claims.name)"),
            "aud": .array(claims.audiences.map(JSONValue.string)),
            "iat": .int(Int64(now.timeIntervalSince1970)), "nbf": .int(Int64(now.timeIntervalSince1970)),
            "exp": .int(Int64(claims.expires.timeIntervalSince1970)),
            "kubernetes.io": ["namespace": .string(claims.namespace), "serviceaccount": ["name": .string(claims.name), "uid": .string(claims.uid)]],
        ]
        let signingInput = Self.base64URL(JSONWriter.bytes(header)) + "." + Self.base64URL(JSONWriter.bytes(payload))
        let signature = try key().signature(for: Data(signingInput.utf8))
        return signingInput + "." + Self.base64URL(Array(signature.rawRepresentation))
    }

    /// The claims of a token this server signed, if its signature holds and it has not expired.
    func verify(_ token: String, now: Date) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signatureBytes = Self.decodeBase64URL(String(parts[2])),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
              let publicKey = try? key().publicKey,
              publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)),
              let payloadBytes = Self.decodeBase64URL(String(parts[1])),
              let payload = try? JSONParser.parseValue(payloadBytes),
              payload["iss"].stringValue == Self.issuer,
              let exp = payload["exp"].intValue, Double(exp) > now.timeIntervalSince1970 else { return nil }
        let k8s = payload["kubernetes.io"]
        guard let namespace = k8s["namespace"].stringValue, let name = k8s["serviceaccount"]["name"].stringValue,
              let uid = k8s["serviceaccount"]["uid"].stringValue else { return nil }
        return Claims(namespace: namespace, name: name, uid: uid, audiences: payload["aud"].arrayValue?.compactMap(\.stringValue) ?? [],
                      expires: Date(timeIntervalSince1970: Double(exp)))
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
