import TugAPI
import TugAPIMachinery

/// Turns a request body into a checked object: JSON, YAML or Kubernetes protobuf, then schema normalisation with
/// `fieldValidation` (Strict: unknown or duplicate fields are a 400; Warn: a `Warning` header; Ignore: dropped).
struct BodyDecoding {
    enum Validation: String { case strict = "Strict", warn = "Warn", ignore = "Ignore" }

    struct Decoded {
        var object: JSONValue
        var warnings: [String]
    }

    static func validation(_ query: QueryParameters) throws(StatusError) -> Validation {
        guard let raw = query["fieldValidation"], !raw.isEmpty else { return .warn }
        guard let v = Validation(rawValue: raw) else {
            throw .badRequest("fieldValidation parameter unsupported: \(raw). Must be one of: Ignore, Warn, Strict")
        }
        return v
    }

    /// What a body must be: a kind, the apiVersions it may name, and its schema.
    struct Target {
        var kind: String
        var apiVersions: [String]
        var schema: TypeSchema

        init(kind: String, apiVersions: [String], schema: TypeSchema) {
            self.kind = kind
            self.apiVersions = apiVersions
            self.schema = schema
        }

        /// A stored resource.
        init(_ d: ResourceDefinition) {
            self.init(kind: d.kind, apiVersions: [d.groupVersion], schema: d.schema)
        }

        // Bodies of kinds that are not stored.
        static let deleteOptions = Target(kind: "DeleteOptions", apiVersions: ["v1", "meta.k8s.io/v1"], schema: MetaSchemas.deleteOptions)
        static let scale = Target(kind: "Scale", apiVersions: ["autoscaling/v1"], schema: AppsSchemas.scale)
        static let binding = Target(kind: "Binding", apiVersions: ["v1"], schema: PodSchemas.binding)
        static let tokenRequest = Target(kind: "TokenRequest", apiVersions: ["authentication.k8s.io/v1"], schema: ClusterSchemas.tokenRequest)
    }

    /// Decodes and checks a body meant for `definition` (kind and apiVersion must agree when present).
    static func decode(_ body: [UInt8], contentType: String, definition d: ResourceDefinition, validation: Validation) throws(StatusError) -> Decoded {
        try decode(body, contentType: contentType, target: Target(d), validation: validation)
    }

    /// Decodes and checks a body meant for `target` (kind and apiVersion must agree when present).
    static func decode(_ body: [UInt8], contentType: String, target: Target, validation: Validation) throws(StatusError) -> Decoded {
        let schema = target.schema
        let base = HeaderText.mediaType(contentType)
        var object: JSONValue
        var duplicates: [String] = []
        switch base {
        case "", "application/json", "*/*":
            do {
                let parsed = try JSONParser.parse(body)
                object = parsed.value
                duplicates = parsed.duplicateKeys
            } catch {
                throw .badRequest("couldn't get version/kind; json parse error: \(error)")
            }
        case "application/yaml", "application/apply-patch+yaml":
            guard let text = String(validating: body, as: UTF8.self) else { throw .badRequest("the body is not valid UTF-8") }
            do { object = try YAMLDecoding.decode(text) } catch { throw .badRequest(error.description) }
        case "application/vnd.kubernetes.protobuf":
            do {
                let envelope = try ProtobufDecoder.envelope(body)
                object = try ProtobufDecoder.decode(envelope.raw, schema: try protobufSchema(envelope, target: target))
                object.kind = envelope.kind
                object.apiVersion = envelope.apiVersion
            } catch let e as StatusError {
                throw e
            } catch {
                throw .badRequest("error decoding protobuf body: \(error)")
            }
        default:
            throw .unsupportedMediaType(contentType)
        }
        guard case .object = object else {
            throw .badRequest("couldn't get version/kind; json parse error: expected an object, got \(object.typeName)")
        }
        let expected = target.apiVersions.first ?? ""
        if let kind = object.kind, !kind.isEmpty, kind != target.kind {
            throw .badRequest("the API version in the data (\(object.apiVersion ?? "")) does not match the expected API version (\(expected)) or kind \(kind) does not match \(target.kind)")
        }
        if let apiVersion = object.apiVersion, !apiVersion.isEmpty, !target.apiVersions.contains(apiVersion) {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(expected))")
        }
        let normalized = SchemaWalker.normalize(object, schema: schema)
        if !normalized.typeErrors.isEmpty {
            let e = normalized.typeErrors[0]
            throw StatusError(code: 400, reason: .badRequest,
                              message: "\(target.kind) in version \"\(expected.split(separator: "/").last ?? "")\" cannot be handled as a \(target.kind): \(e.field): \(e.causeMessage)",
                              details: .init(causes: normalized.typeErrors.map { .init(reason: $0.type.reason, message: $0.causeMessage, field: $0.field) }))
        }
        let problems = normalized.unknownFields.map { "unknown field \"\($0)\"" } + duplicates.map { "duplicate field \"\($0)\"" }
        switch validation {
        case .strict where !problems.isEmpty:
            throw StatusError(code: 400, reason: .badRequest, message: "strict decoding error: " + problems.joined(separator: ", "),
                              details: .init(causes: normalized.unknownFields.map { .init(reason: "FieldValueInvalid", message: "unknown field \"\($0)\"", field: $0) }))
        case .warn:
            return Decoded(object: normalized.value, warnings: problems)
        default:
            return Decoded(object: normalized.value, warnings: [])
        }
    }

    /// The schema for a protobuf body: the target's own, or a side kind (DeleteOptions in a drain…) by envelope kind.
    static func protobufSchema(_ envelope: ProtobufDecoder.Envelope, target: Target) throws -> TypeSchema {
        if envelope.kind == target.kind { return target.schema }
        if let side = SideKinds.schema(kind: envelope.kind) { return side }
        throw StatusError.unsupportedMediaType("application/vnd.kubernetes.protobuf for \(envelope.apiVersion)/\(envelope.kind)")
    }
}

/// Kinds that appear in request bodies but are not stored resources.
enum SideKinds {
    static let schemas: [String: TypeSchema] = [
        "DeleteOptions": MetaSchemas.deleteOptions,
        "SelfSubjectAccessReview": ClusterSchemas.selfSubjectAccessReview,
        "SelfSubjectRulesReview": ClusterSchemas.selfSubjectRulesReview,
        "SelfSubjectReview": ClusterSchemas.selfSubjectReview,
        "SubjectAccessReview": ReviewSchemas.subjectAccessReview,
        "LocalSubjectAccessReview": ReviewSchemas.localSubjectAccessReview,
        "TokenReview": ReviewSchemas.tokenReview,
        "Scale": AppsSchemas.scale,
        "Binding": PodSchemas.binding,
    ]

    static func schema(kind: String) -> TypeSchema? { schemas[kind] }
}
