import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import NIOSSL
import Synchronization
import TugAPIMachinery
import TugClient
import X509

/// Who may use the agent's endpoint, as the kubelet's webhook authentication and authorization: a client
/// certificate from the cluster CA (verified in the TLS handshake) or a bearer token the API server's TokenReview
/// vouches for, then a SubjectAccessReview for `nodes/<subresource>` of this node (`proxy` for logs, exec, attach
/// and port-forward). Decisions are cached as the kubelet's (allowed 5 minutes, denied 30 seconds).
final class EndpointAccess: Sendable {
    let client: RESTClient
    let nodeName: String
    private let decisions = Mutex<[String: (allowed: Bool, until: ContinuousClock.Instant)]>([:])

    init(client: RESTClient, nodeName: String) {
        self.client = client
        self.nodeName = nodeName
    }

    struct Identity: Sendable, Hashable {
        var name: String
        var groups: [String]
    }

    /// Nil when allowed; otherwise the error to answer (401 without an identity, 403 without permission).
    func check(method: HTTPRequest.Method, path: String, authorization: String?, channel: (any Channel)?) async -> AgentEndpoint.EndpointError? {
        guard let identity = await identify(authorization: authorization, channel: channel) else {
            return AgentEndpoint.EndpointError(code: 401, reason: "Unauthorized", message: "Unauthorized")
        }
        let verb = method == .post ? "create" : method == .put ? "update" : method == .delete ? "delete" : "get"
        let subresource = Self.subresource(path)
        guard await allowed(identity, verb: verb, subresource: subresource) else {
            return AgentEndpoint.EndpointError(code: 403, reason: "Forbidden",
                                 message: "Forbidden (user=\(identity.name), verb=\(verb), resource=nodes, subresource(s)=[\(subresource)])")
        }
        return nil
    }

    /// The kubelet's path → subresource mapping.
    static func subresource(_ path: String) -> String {
        let first = path.split(separator: "/").first.map(String.init) ?? ""
        switch first {
        case "metrics": return "metrics"
        case "stats": return "stats"
        case "logs": return "log"
        case "configz": return "configz"
        case "healthz": return "healthz"
        default: return "proxy"
        }
    }

    func identify(authorization: String?, channel: (any Channel)?) async -> Identity? {
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            let token = String(authorization.dropFirst("Bearer ".count))
            let review: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": .string(token)]]
            guard let answer = try? await client.create("/apis/authentication.k8s.io/v1/tokenreviews", review),
                  answer["status"]["authenticated"].boolValue == true, let name = answer["status"]["user"]["username"].stringValue else { return nil }
            return Identity(name: name, groups: (answer["status"]["user"]["groups"].arrayValue ?? []).compactMap(\.stringValue))
        }
        guard let channel, let peer = try? await channel.nioSSL_peerCertificate().get(), let der = try? peer.toDERBytes(),
              let certificate = try? Certificate(derEncoded: der),
              let usages = try? certificate.extensions.extendedKeyUsage, usages.contains(.clientAuth) else { return nil }
        var name: String?
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { name = String(describing: attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName { groups.append(String(describing: attribute.value)) }
            }
        }
        guard let name, !name.isEmpty else { return nil }
        return Identity(name: name, groups: groups + ["system:authenticated"])
    }

    func allowed(_ identity: Identity, verb: String, subresource: String) async -> Bool {
        let key = "\(identity.name)|\(identity.groups.joined(separator: ","))|\(verb)|\(subresource)"
        let now = ContinuousClock.now
        if let cached = decisions.withLock({ $0[key] }), cached.until > now { return cached.allowed }
        let review: JSONValue = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": ["user": .string(identity.name), "groups": .array(identity.groups.map(JSONValue.string)),
                     "resourceAttributes": ["verb": .string(verb), "resource": "nodes", "subresource": .string(subresource), "name": .string(nodeName)]],
        ]
        guard let answer = try? await client.create("/apis/authorization.k8s.io/v1/subjectaccessreviews", review) else { return false }
        let allowed = answer["status"]["allowed"].boolValue == true
        decisions.withLock { decisions in
            if decisions.count > 1024 { decisions.removeAll() }
            decisions[key] = (allowed, now + (allowed ? .seconds(300) : .seconds(30)))
        }
        return allowed
    }
}

/// The endpoint's request context: Hummingbird's storage plus the connection (whose client certificate
/// authenticates the caller).
struct AgentRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
