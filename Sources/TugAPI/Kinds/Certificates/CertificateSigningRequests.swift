public import Foundation
public import TugAPIMachinery

/// certificates.k8s.io/v1 CertificateSigningRequest: a request for a certificate from a signer, approved or denied
/// through the `approval` subresource, signed into `status.certificate` (field numbers of
/// `k8s.io/api/certificates/v1/generated.proto`).
public enum CertificateSchemas {
    static let prefix = "io.k8s.api.certificates.v1."

    public static let certificateSigningRequest = TypeSchema(prefix + "CertificateSigningRequest",
        description: "CertificateSigningRequest objects provide a mechanism to obtain x509 certificates by submitting a certificate signing request, and having it asynchronously approved and issued.",
        MetaSchemas.top([
            F("spec", .object(TypeSchema(prefix + "CertificateSigningRequestSpec", [
                F("request", .bytes, 1), F("signerName", .string, 7), F("expirationSeconds", .int32, 8, pointer: true),
                F("usages", .array(.string), 5), F("username", .string, 2), F("uid", .string, 3), F("groups", .array(.string), 4),
                // `extra` is map<string, ExtraValue{items}> in protobuf, which these tables do not model: JSON only.
                F("extra", .map(.array(.string))),
            ])), 2),
            F("status", .object(TypeSchema(prefix + "CertificateSigningRequestStatus", [
                F("conditions", .array(.object(TypeSchema(prefix + "CertificateSigningRequestCondition", [
                    F("type", .string, 1), F("status", .string, 6), F("reason", .string, 2), F("message", .string, 3),
                    F("lastUpdateTime", .time, 4), F("lastTransitionTime", .time, 5),
                ]))), 1, patch: .mergeByKey("type")),
                F("certificate", .bytes, 2),
            ])), 3),
        ]))
}

/// Validation as upstream's: a PEM CERTIFICATE REQUEST, a qualified signer name, usages; the spec never changes
/// after creation (the requester's identity is set by the server at creation).
public struct CertificateSigningRequestStrategy: ResourceStrategy {
    public init() {}

    public static let usages = ["signing", "digital signature", "content commitment", "key encipherment", "key agreement", "data encipherment",
                                "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth", "client auth", "code signing",
                                "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
                                "microsoft sgc", "netscape sgc"]

    public func validate(_ object: JSONValue) -> FieldErrorList {
        var errors = FieldErrorList()
        let spec = object["spec"]
        let pem = spec["request"].stringValue.flatMap(Base64.decode).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if !pem.contains("-----BEGIN CERTIFICATE REQUEST-----") {
            errors.invalid("spec.request", .string("<bytes>"), "PEM block type must be CERTIFICATE REQUEST")
        }
        let signer = spec["signerName"].stringValue ?? ""
        if signer.isEmpty { errors.required("spec.signerName") } else if signer.split(separator: "/").count != 2 {
            errors.invalid("spec.signerName", .string(signer), "must be a fully qualified domain and path of the form 'example.com/signer-name'")
        }
        let usages = (spec["usages"].arrayValue ?? []).compactMap(\.stringValue)
        if usages.isEmpty { errors.required("spec.usages") }
        for (i, usage) in usages.enumerated() where !Self.usages.contains(usage) {
            errors.append(FieldError(.notSupported(Self.usages), field: "spec.usages[\(i)]", value: .string(usage)))
        }
        if let seconds = spec["expirationSeconds"].intValue, seconds < 600 {
            errors.invalid("spec.expirationSeconds", .int(seconds), "may not specify a duration less than 600 seconds (10 minutes)")
        }
        return errors
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> FieldErrorList {
        var errors = validate(object)
        if object["spec"] != old["spec"] { errors.invalid("spec", .string("<spec>"), "field is immutable") }
        return errors
    }

    public var tracksGeneration: Bool { false }

    public var columns: [TableColumn] {
        [.name, .age, TableColumn("SignerName"), TableColumn("Requestor"), TableColumn("RequestedDuration"), TableColumn("Condition")]
    }

    public func cells(_ object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"]
        let conditions = (object["status"]["conditions"].arrayValue ?? []).filter { $0["status"].stringValue != "False" }.compactMap { $0["type"].stringValue }
        var shown = conditions
        if !(object["status"]["certificate"].stringValue ?? "").isEmpty { shown.append("Issued") }
        let duration = spec["expirationSeconds"].intValue.map { KubeTime.humanDuration(Double($0)) } ?? "<none>"
        return [.string(object.name), TableColumn.age(object, now: now), .string(spec["signerName"].stringValue ?? ""),
                .string(spec["username"].stringValue ?? ""), .string(duration), .string(shown.isEmpty ? "Pending" : shown.joined(separator: ","))]
    }
}
