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

    /// Decodes and checks a body meant for `definition` (kind and apiVersion must agree when present).
    static func decode(_ body: [UInt8], contentType: String, definition d: ResourceDefinition, validation: Validation,
                       schema: TypeSchema? = nil) throws(StatusError) -> Decoded {
        let schema = schema ?? d.schema
        let base = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
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
                let target = try protobufSchema(envelope, definition: d, fallback: schema)
                object = try ProtobufDecoder.decode(envelope.raw, schema: target)
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
        if let kind = object.kind, !kind.isEmpty, kind != d.kind, schema === d.schema {
            throw .badRequest("the API version in the data (\(object.apiVersion ?? "")) does not match the expected API version (\(d.groupVersion)) or kind \(kind) does not match \(d.kind)")
        }
        if let apiVersion = object.apiVersion, !apiVersion.isEmpty, apiVersion != d.groupVersion, schema === d.schema {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(d.groupVersion))")
        }
        let normalized = SchemaWalker.normalize(object, schema: schema)
        if !normalized.typeErrors.isEmpty {
            let e = normalized.typeErrors[0]
            throw StatusError(code: 400, reason: .badRequest,
                              message: "\(d.kind) in version \"\(d.version)\" cannot be handled as a \(d.kind): \(e.field): \(e.causeMessage)",
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

    /// The schema for a protobuf body: the resource's own, or a side kind (reviews, DeleteOptions) by envelope kind.
    static func protobufSchema(_ envelope: ProtobufDecoder.Envelope, definition d: ResourceDefinition, fallback: TypeSchema) throws -> TypeSchema {
        if envelope.kind == d.kind { return fallback }
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
        "Scale": AppsSchemas.scale,
        "Binding": PodSchemas.binding,
    ]

    static func schema(kind: String) -> TypeSchema? { schemas[kind] }
}
