/// A Kubernetes `Status` failure: the only error shape that crosses the API boundary.
///
/// Build one through the named constructors (`.notFound`, `.conflict`, `.invalid` …) so that codes, reasons and
/// message wording match the real API server, which kubectl prints verbatim.
public struct StatusError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var reason: StatusReason
    public var message: String
    public var details: Details?

    public struct Details: Sendable, Hashable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var causes: [Cause]
        public var retryAfterSeconds: Int?

        public init(name: String? = nil, group: String? = nil, kind: String? = nil, causes: [Cause] = [], retryAfterSeconds: Int? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.causes = causes
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    public struct Cause: Sendable, Hashable {
        public var reason: String
        public var message: String
        public var field: String

        public init(reason: String, message: String, field: String) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public init(code: Int, reason: StatusReason, message: String, details: Details? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(reason.rawValue) (\(code)): \(message)" }

    /// A Status a server answered with (a client's view of a failed request); without a Status body the HTTP code
    /// decides the reason.
    public init(response status: JSONValue, code: Int) {
        let reason = status["reason"].stringValue.map(StatusReason.init(rawValue:))
            ?? (code == 404 ? .notFound : code == 409 ? .conflict : code == 422 ? .invalid : code >= 500 ? .internalError : .badRequest)
        let causes = (status["details"]["causes"].arrayValue ?? []).map {
            Cause(reason: $0["reason"].stringValue ?? "", message: $0["message"].stringValue ?? "", field: $0["field"].stringValue ?? "")
        }
        self.init(code: code, reason: reason, message: status["message"].stringValue ?? "HTTP \(code)",
                  details: status["details"].isNull ? nil : Details(name: status["details"]["name"].stringValue, kind: status["details"]["kind"].stringValue, causes: causes))
    }

    /// The wire form: `{"kind":"Status","apiVersion":"v1","status":"Failure",…}`.
    public var status: JSONValue {
        var out: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": .emptyObject,
            "status": "Failure", "message": .string(message), "reason": .string(reason.rawValue), "code": .int(Int64(code)),
        ]
        if let details {
            var d: JSONValue = .emptyObject
            if let name = details.name { d["name"] = .string(name) }
            // Upstream's `group,omitempty`: the core group is left out, not sent as "".
            if let group = details.group, !group.isEmpty { d["group"] = .string(group) }
            if let kind = details.kind { d["kind"] = .string(kind) }
            if let retry = details.retryAfterSeconds { d["retryAfterSeconds"] = .int(Int64(retry)) }
            if !details.causes.isEmpty {
                d["causes"] = .array(details.causes.map { cause in
                    var c: JSONValue = ["reason": .string(cause.reason), "message": .string(cause.message)]
                    if !cause.field.isEmpty { c["field"] = .string(cause.field) }
                    return c
                })
            }
            out["details"] = d
        }
        return out
    }
}

/// The `reason` of a Status; the raw value is the Kubernetes string.
public struct StatusReason: Sendable, Hashable, RawRepresentable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let notFound = StatusReason(rawValue: "NotFound")
    public static let alreadyExists = StatusReason(rawValue: "AlreadyExists")
    public static let conflict = StatusReason(rawValue: "Conflict")
    public static let invalid = StatusReason(rawValue: "Invalid")
    public static let badRequest = StatusReason(rawValue: "BadRequest")
    public static let unauthorized = StatusReason(rawValue: "Unauthorized")
    public static let forbidden = StatusReason(rawValue: "Forbidden")
    public static let gone = StatusReason(rawValue: "Gone")
    public static let expired = StatusReason(rawValue: "Expired")
    public static let methodNotAllowed = StatusReason(rawValue: "MethodNotAllowed")
    public static let unsupportedMediaType = StatusReason(rawValue: "UnsupportedMediaType")
    public static let notAcceptable = StatusReason(rawValue: "NotAcceptable")
    public static let requestEntityTooLarge = StatusReason(rawValue: "RequestEntityTooLarge")
    public static let tooManyRequests = StatusReason(rawValue: "TooManyRequests")
    public static let internalError = StatusReason(rawValue: "InternalError")
    public static let timeout = StatusReason(rawValue: "Timeout")
    public static let serviceUnavailable = StatusReason(rawValue: "ServiceUnavailable")
}

/// The resource a Status talks about: plural resource and group, as in `deployments.apps "web" not found`.
public struct GroupResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var resource: String
    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
    }
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

extension StatusError {
    public static func notFound(_ gr: GroupResource, name: String) -> StatusError {
        StatusError(code: 404, reason: .notFound, message: "\(gr) \"\(name)\" not found",
                    details: .init(name: name, group: gr.group, kind: gr.resource))
    }

    public static func alreadyExists(_ gr: GroupResource, name: String) -> StatusError {
        StatusError(code: 409, reason: .alreadyExists, message: "\(gr) \"\(name)\" already exists",
                    details: .init(name: name, group: gr.group, kind: gr.resource))
    }

    public static func conflict(_ gr: GroupResource, name: String, _ detail: String = "the object has been modified; please apply your changes to the latest version and try again") -> StatusError {
        StatusError(code: 409, reason: .conflict, message: "Operation cannot be fulfilled on \(gr) \"\(name)\": \(detail)",
                    details: .init(name: name, group: gr.group, kind: gr.resource))
    }

    /// 422 Invalid: `Pod "x" is invalid: [spec.containers[0].image: Required value, …]`.
    public static func invalid(kind: String, group: String, name: String, errors: FieldErrorList) -> StatusError {
        let causes = errors.errors.map { Cause(reason: $0.type.reason, message: $0.causeMessage, field: $0.field) }
        let summary = errors.errors.count == 1 ? errors.errors[0].description : "[" + errors.errors.map(\.description).joined(separator: ", ") + "]"
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        return StatusError(code: 422, reason: .invalid, message: "\(qualifiedKind) \"\(name)\" is invalid: \(summary)",
                           details: .init(name: name, group: group, kind: kind, causes: causes))
    }

    public static func badRequest(_ message: String, causes: [Cause] = []) -> StatusError {
        StatusError(code: 400, reason: .badRequest, message: message, details: causes.isEmpty ? nil : .init(causes: causes))
    }

    public static func unauthorized(_ message: String = "Unauthorized") -> StatusError {
        StatusError(code: 401, reason: .unauthorized, message: message)
    }

    public static func forbidden(_ gr: GroupResource, name: String, _ why: String) -> StatusError {
        let subject = name.isEmpty ? "\(gr)" : "\(gr) \"\(name)\""
        return StatusError(code: 403, reason: .forbidden, message: "\(subject) is forbidden: \(why)",
                           details: .init(name: name.isEmpty ? nil : name, group: gr.group, kind: gr.resource))
    }

    public static func methodNotAllowed(_ message: String) -> StatusError {
        StatusError(code: 405, reason: .methodNotAllowed, message: message)
    }

    public static func unsupportedMediaType(_ contentType: String) -> StatusError {
        StatusError(code: 415, reason: .unsupportedMediaType, message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got \(contentType))")
    }

    public static func tooLarge(limit: Int) -> StatusError {
        StatusError(code: 413, reason: .requestEntityTooLarge, message: "the server has received a request that is too large: limit is \(limit) bytes")
    }

    /// kube's NewRequestEntityTooLargeError: a decoded object too large to store.
    public static func entityTooLarge(_ message: String) -> StatusError {
        StatusError(code: 413, reason: .requestEntityTooLarge, message: "Request entity too large: \(message)")
    }

    public static func expired(_ message: String) -> StatusError {
        StatusError(code: 410, reason: .expired, message: message)
    }

    public static func gone(_ message: String) -> StatusError {
        StatusError(code: 410, reason: .gone, message: message)
    }

    public static func notFoundPath() -> StatusError {
        StatusError(code: 404, reason: .notFound, message: "the server could not find the requested resource")
    }

    public static func internalError(_ message: String) -> StatusError {
        StatusError(code: 500, reason: .internalError, message: "Internal error occurred: \(message)")
    }

    public static func timeout(_ message: String) -> StatusError {
        StatusError(code: 504, reason: .timeout, message: message)
    }

    /// The storage layer's NewTooLargeResourceVersionError: a client asked for a state newer than the server's.
    public static func resourceVersionTooLarge(_ requested: Int64, current: Int64) -> StatusError {
        StatusError(code: 504, reason: .timeout, message: "Timeout: Too large resource version: \(requested), current: \(current)",
                    details: Details(causes: [Cause(reason: "ResourceVersionTooLarge", message: "Too large resource version", field: "")], retryAfterSeconds: 1))
    }

    /// kube's NewTooManyRequests: the client should retry after `retryAfterSeconds` (also sent as Retry-After).
    public static func tooManyRequests(_ message: String = "Too many requests, please try again later.", retryAfterSeconds: Int) -> StatusError {
        StatusError(code: 429, reason: .tooManyRequests, message: message, details: Details(retryAfterSeconds: retryAfterSeconds))
    }

    public static func serviceUnavailable(_ message: String) -> StatusError {
        StatusError(code: 503, reason: .serviceUnavailable, message: message)
    }
}
