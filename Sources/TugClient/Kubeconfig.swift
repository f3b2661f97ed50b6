import Foundation
import TugAPIMachinery
import Yams

/// The parts of a kubeconfig the client uses: current context's server, CA, and the user's bearer token or client
/// certificate and key.
public struct Kubeconfig: Sendable {
    public var server: String
    public var caPEM: String?
    public var token: String?
    public var clientCertificatePEM: String?
    public var clientKeyPEM: String?
    public var insecureSkipTLSVerify: Bool

    public init(server: String, caPEM: String?, token: String?, clientCertificatePEM: String? = nil, clientKeyPEM: String? = nil,
                insecureSkipTLSVerify: Bool = false) {
        self.server = server
        self.caPEM = caPEM
        self.token = token
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func load(path: String) throws -> Kubeconfig {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let config = try YAMLDecoding.decode(text)
        let contextName = config["current-context"].stringValue ?? ""
        guard let context = config["contexts"].arrayValue?.first(where: { $0["name"].stringValue == contextName })?["context"] ?? config["contexts"][0]["context"] as JSONValue?,
              case .object = context else { throw Failure(description: "\(path): no current context") }
        let cluster = config["clusters"].arrayValue?.first { $0["name"] == context["cluster"] }?["cluster"] ?? .null
        let user = config["users"].arrayValue?.first { $0["name"] == context["user"] }?["user"] ?? .null
        guard let server = cluster["server"].stringValue else { throw Failure(description: "\(path): cluster has no server") }
        var ca: String?
        if let data = cluster["certificate-authority-data"].stringValue, let bytes = Base64.decode(data) {
            ca = String(decoding: bytes, as: UTF8.self)
        } else if let file = cluster["certificate-authority"].stringValue {
            ca = try String(contentsOfFile: file, encoding: .utf8)
        }
        func pem(_ data: String, file: String) throws -> String? {
            if let text = user[data].stringValue, let bytes = Base64.decode(text) { return String(decoding: bytes, as: UTF8.self) }
            return try user[file].stringValue.map { try String(contentsOfFile: $0, encoding: .utf8) }
        }
        return Kubeconfig(server: server, caPEM: ca, token: user["token"].stringValue,
                          clientCertificatePEM: try pem("client-certificate-data", file: "client-certificate"),
                          clientKeyPEM: try pem("client-key-data", file: "client-key"),
                          insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"].boolValue ?? false)
    }
}
