public import TugAPI
public import TugAPIMachinery
public import TugAuth
public import TugRegistry

/// A new CertificateSigningRequest records who asked (`spec.username`, `uid`, `groups`, `extra`), whatever the
/// client wrote there, as upstream's CSR strategy does: approvers and signers decide on that identity.
public struct CertificateRequestIdentity: AdmissionPlugin {
    public init() {}

    public func registrations() -> [GroupResource: [any AdmissionPlugin]] {
        [GroupResource(group: "certificates.k8s.io", resource: "certificatesigningrequests"): [self]]
    }

    public func admit(_ store: ObjectStore, _ object: inout JSONValue, definition d: ResourceDefinition, dryRun: Bool, old: JSONValue?,
                      user: UserInfo?) throws(StatusError) {
        guard old == nil, let user else { return }
        object["spec"]["username"] = .string(user.name)
        object["spec"]["uid"] = user.uid.isEmpty ? .null : .string(user.uid)
        object["spec"]["groups"] = .array(user.groups.map(JSONValue.string))
        object["spec"]["extra"] = user.extra.isEmpty ? .null
            : .object(JSONObject(user.extra.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map(JSONValue.string))) }))
    }
}
