import Hummingbird
import TugAPI
import TugAPIMachinery
import TugAuth

/// `certificatesigningrequests/{name}/approval` (what `kubectl certificate approve|deny` writes): the request's
/// Approved or Denied condition, allowed to users who may `approve` the request's signer (upstream's
/// CertificateApproval admission: `signers` named by the signer or by its domain with `/*`).
extension APIServer {
    func approve(_ request: Request, definition d: ResourceDefinition, name: String, query: QueryParameters, user: UserInfo?) async throws -> Response {
        let view = ObjectView(definition: d, storage: d)
        var req = request
        let body = try await collect(&req)
        let decoded = try BodyDecoding.decode(body, contentType: request.headers[.contentType] ?? "", definition: d, validation: .ignore).object
        let stored = try store.getObject(d, namespace: "", name: name)
        var conditions = decoded["status"]["conditions"].arrayValue ?? []
        let types = Set(conditions.compactMap { $0["type"].stringValue })
        if types.contains("Approved") && types.contains("Denied") {
            throw StatusError.invalid(kind: d.kind, group: d.group, name: name, errors: FieldErrorList([
                FieldError(.invalid, field: "status.conditions", value: .string("Approved"), detail: "Approved and Denied conditions are mutually exclusive"),
            ]))
        }
        let before = Set((stored["status"]["conditions"].arrayValue ?? []).compactMap { $0["type"].stringValue })
        if before.contains("Approved") && !types.contains("Approved") || before.contains("Denied") && !types.contains("Denied") {
            throw StatusError.invalid(kind: d.kind, group: d.group, name: name, errors: FieldErrorList([
                FieldError(.forbidden, field: "status.conditions", value: nil, detail: "updates may not remove a condition of type Approved or Denied"),
            ]))
        }
        let signer = stored["spec"]["signerName"].stringValue ?? ""
        if let user, !types.subtracting(before).intersection(["Approved", "Denied"]).isEmpty {
            let domain = signer.split(separator: "/").first.map { "\($0)/*" } ?? signer
            let allowed = [signer, domain].contains { signerName in
                store.authorization.authorize(AuthorizationAttributes(user: user, verb: "approve", apiGroup: "certificates.k8s.io",
                                                                      resource: "signers", name: signerName)).allowed
            }
            guard allowed else {
                throw StatusError.forbidden(d.groupResource, name: name, "user not permitted to approve requests with signerName \"\(signer)\"")
            }
        }
        let now = KubeTime.format(store.now)
        for i in conditions.indices {
            if conditions[i]["lastUpdateTime"].isNull { conditions[i]["lastUpdateTime"] = .string(now) }
            if conditions[i]["lastTransitionTime"].isNull { conditions[i]["lastTransitionTime"] = .string(now) }
            if conditions[i]["status"].isNull { conditions[i]["status"] = "True" }
        }
        var updated = stored
        updated["status"]["conditions"] = .array(conditions)
        let result = try await store.update(d, namespace: "", name: name, object: updated, target: .status, user: user)
        return render(request, view: view, objects: [result], single: true, query: query)
    }
}
