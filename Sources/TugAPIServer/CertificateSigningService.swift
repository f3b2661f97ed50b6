import Foundation
import Logging
public import ServiceLifecycle
import SwiftASN1
import TugAPI
import TugAPIMachinery
import TugAuth
import TugRegistry
import TugStorage
import X509

/// kube-controller-manager's CSR controllers for the built-in signers, with the cluster CA: the approver
/// approves node client certificates a node or bootstrapper may request (after the same SubjectAccessReview as
/// upstream: `create certificatesigningrequests/selfnodeclient` or `/nodeclient`) and, as k3s does for its agents,
/// a node's request for its own serving certificate; the signer signs approved requests of
/// `kubernetes.io/kube-apiserver-client`, `kube-apiserver-client-kubelet` and `kubelet-serving` that meet their
/// signer's rules, and marks the others Failed.
public struct CertificateSigningService: Service {
    let store: ObjectStore
    let ca: ClusterCA
    let logger: Logger

    public init(store: ObjectStore, ca: ClusterCA, logger: Logger = Logger(label: "tug.controller.csr")) {
        self.store = store
        self.ca = ca
        self.logger = logger
    }

    static let clientSigner = "kubernetes.io/kube-apiserver-client"
    static let kubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet"
    static let kubeletServingSigner = "kubernetes.io/kubelet-serving"

    public func run() async throws {
        guard let definition = store.definition(group: "certificates.k8s.io", resource: "certificatesigningrequests") else { return }
        let prefix = StorageKeys.prefix(definition, namespace: nil)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let revision = store.backend.currentRevision
            let streams = [try? store.backend.watch(prefix: prefix, after: revision, bufferLimit: 64)].compactMap { $0 }
            do {
                for item in try store.backend.list(prefix: prefix).items {
                    try await reconcile(try store.decode(item), definition: definition)
                }
            } catch {
                logger.warning("certificate signing: \(error)")
                try? await Task.sleep(for: .milliseconds(500))
            }
            await WatchStreams.firstChange(streams)
            streams.forEach { $0.cancel() }
        }
    }

    func reconcile(_ csr: JSONValue, definition: ResourceDefinition) async throws {
        let conditions = (csr["status"]["conditions"].arrayValue ?? []).compactMap { $0["type"].stringValue }
        guard !conditions.contains("Denied"), !conditions.contains("Failed"), (csr["status"]["certificate"].stringValue ?? "").isEmpty else { return }
        let parsed = Self.parse(csr)
        if !conditions.contains("Approved") {
            guard let parsed, let message = approval(csr, parsed) else { return }
            try await write(csr, definition: definition) { $0["status"]["conditions"] = .array(($0["status"]["conditions"].arrayValue ?? []) + [condition("Approved", "AutoApproved", message)]) }
            return
        }
        let signer = csr["spec"]["signerName"].stringValue ?? ""
        guard [Self.clientSigner, Self.kubeletClientSigner, Self.kubeletServingSigner].contains(signer) else { return }
        guard let parsed else {
            try await fail(csr, definition: definition, "the request is not a valid PEM CERTIFICATE REQUEST with a valid signature")
            return
        }
        if let problem = Self.violation(signer: signer, parsed, usages: Self.usages(csr)) {
            try await fail(csr, definition: definition, problem)
            return
        }
        let days = max(1, min(365, (csr["spec"]["expirationSeconds"].intValue ?? 365 * 86400) / 86400))
        let pem = try ca.sign(publicKey: parsed.request.publicKey, commonName: parsed.commonName ?? "", organizations: parsed.organizations,
                              usage: signer == Self.kubeletServingSigner ? .server : .client, hosts: parsed.hosts, days: Int(days))
        logger.info("signed certificate", metadata: ["csr": "\(csr.name)", "signer": "\(signer)", "subject": "\(parsed.commonName ?? "")"])
        try await write(csr, definition: definition) { $0["status"]["certificate"] = .string(Base64.encode(Array(pem.utf8))) }
    }

    struct Parsed {
        var request: CertificateSigningRequest
        var commonName: String?
        var organizations: [String]
        var hosts: [String]
        var otherNames: Bool
    }

    static func parse(_ csr: JSONValue) -> Parsed? {
        guard let bytes = csr["spec"]["request"].stringValue.flatMap(Base64.decode),
              let request = try? CertificateSigningRequest(pemEncoded: String(decoding: bytes, as: UTF8.self)),
              request.publicKey.isValidSignature(request.signature, for: request) else { return nil }
        let (name, organizations) = ClientCertificateIdentity.names(request.subject)
        var hosts: [String] = [], otherNames = false
        let sans: SubjectAlternativeNames? = (try? request.attributes.extensionRequest?.extensions.subjectAlternativeNames) ?? nil
        for san in sans.map(Array.init) ?? [] {
            switch san {
            case .dnsName(let name): hosts.append(name)
            case .ipAddress(let bytes) where bytes.bytes.count == 4: hosts.append(bytes.bytes.map(String.init).joined(separator: "."))
            default: otherNames = true
            }
        }
        return Parsed(request: request, commonName: name, organizations: organizations, hosts: hosts, otherNames: otherNames)
    }

    static func usages(_ csr: JSONValue) -> Set<String> { Set((csr["spec"]["usages"].arrayValue ?? []).compactMap(\.stringValue)) }

    /// Why a request breaks its signer's rules (upstream's `pkg/apis/certificates` signer validation), or nil.
    static func violation(signer: String, _ parsed: Parsed, usages: Set<String>) -> String? {
        switch signer {
        case kubeletClientSigner, kubeletServingSigner:
            let serving = signer == kubeletServingSigner
            guard let name = parsed.commonName, name.hasPrefix("system:node:"), name.count > "system:node:".count else {
                return "subject common name must begin with \"system:node:\""
            }
            guard parsed.organizations == ["system:nodes"] else { return "subject organization must be [\"system:nodes\"]" }
            let wanted = serving ? "server auth" : "client auth"
            guard usages.contains(wanted), usages.isSubset(of: ["digital signature", "key encipherment", wanted]) else {
                return "usages must be \"\(wanted)\" with \"digital signature\" and optionally \"key encipherment\""
            }
            if serving { return parsed.otherNames ? "only DNS and IP subject alternative names are allowed" : nil }
            return parsed.hosts.isEmpty && !parsed.otherNames ? nil : "subject alternative names are not allowed"
        default:
            guard usages.contains("client auth"), usages.isSubset(of: ["digital signature", "key encipherment", "client auth"]) else {
                return "usages must include \"client auth\" and only \"digital signature\" or \"key encipherment\" besides"
            }
            return parsed.commonName.map { $0.isEmpty ? "subject common name is required" : nil } ?? "subject common name is required"
        }
    }

    /// The approval message when the request may be approved automatically, nil when a person must decide.
    func approval(_ csr: JSONValue, _ parsed: Parsed) -> String? {
        let signer = csr["spec"]["signerName"].stringValue ?? ""
        guard signer == Self.kubeletClientSigner || signer == Self.kubeletServingSigner,
              Self.violation(signer: signer, parsed, usages: Self.usages(csr)) == nil else { return nil }
        let requester = UserInfo(name: csr["spec"]["username"].stringValue ?? "", uid: csr["spec"]["uid"].stringValue ?? "",
                                 groups: (csr["spec"]["groups"].arrayValue ?? []).compactMap(\.stringValue))
        let own = requester.name == parsed.commonName
        if signer == Self.kubeletServingSigner {
            return own && requester.groups.contains("system:nodes") ? "Auto approving the node's own serving certificate." : nil
        }
        func may(_ subresource: String) -> Bool {
            store.authorization.authorize(AuthorizationAttributes(user: requester, verb: "create", apiGroup: "certificates.k8s.io",
                                                                  resource: "certificatesigningrequests", subresource: subresource)).allowed
        }
        if own, may("selfnodeclient") { return "Auto approving self kubelet client certificate after SubjectAccessReview." }
        if may("nodeclient") { return "Auto approving kubelet client certificate after SubjectAccessReview." }
        return nil
    }

    func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
        let now = JSONValue.string(KubeTime.format(store.now))
        return ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message), "lastUpdateTime": now, "lastTransitionTime": now]
    }

    func fail(_ csr: JSONValue, definition: ResourceDefinition, _ message: String) async throws {
        logger.info("refused certificate request", metadata: ["csr": "\(csr.name)", "why": "\(message)"])
        try await write(csr, definition: definition) {
            $0["status"]["conditions"] = .array(($0["status"]["conditions"].arrayValue ?? []) + [condition("Failed", "SignerValidationFailure", message)])
        }
    }

    func write(_ csr: JSONValue, definition: ResourceDefinition, _ change: (inout JSONValue) -> Void) async throws {
        var updated = csr
        change(&updated)
        do {
            _ = try await store.update(definition, namespace: "", name: csr.name, object: updated, target: .status)
        } catch {
            guard error.code == 409 || error.code == 404 else { throw error }
        }
    }
}
