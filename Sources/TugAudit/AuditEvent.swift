public import Foundation
public import TugAPIMachinery
public import TugAuth

/// One request's audit record (`audit.k8s.io/v1` Event), filled in as the request goes and written once per stage.
public struct AuditEvent: Sendable {
    public var level: AuditLevel
    public var auditID: String
    public var requestURI: String
    public var verb: String
    public var user: UserInfo?
    public var impersonatedUser: UserInfo?
    public var sourceIPs: [String]
    public var userAgent: String?
    public var objectRef: JSONValue = .null
    public var responseStatus: JSONValue = .null
    public var requestObject: JSONValue = .null
    public var responseObject: JSONValue = .null
    public var received: Date
    public var annotations: [String: String] = [:]
    public var omitManagedFields = false

    public init(level: AuditLevel, auditID: String = UUID().uuidString.lowercased(), requestURI: String, verb: String,
                user: UserInfo?, sourceIPs: [String], userAgent: String?, received: Date) {
        self.level = level
        self.auditID = auditID
        self.requestURI = requestURI
        self.verb = verb
        self.user = user
        self.sourceIPs = sourceIPs
        self.userAgent = userAgent
        self.received = received
    }

    /// `objectRef` from what the request names (a resource request).
    public mutating func refer(to attributes: AuthorizationAttributes) {
        guard attributes.isResourceRequest else { return }
        var reference: JSONObject = ["resource": .string(attributes.resource)]
        if !attributes.namespace.isEmpty { reference["namespace"] = .string(attributes.namespace) }
        if !attributes.name.isEmpty { reference["name"] = .string(attributes.name) }
        if !attributes.apiGroup.isEmpty { reference["apiGroup"] = .string(attributes.apiGroup) }
        if !attributes.apiVersion.isEmpty { reference["apiVersion"] = .string(attributes.apiVersion) }
        if !attributes.subresource.isEmpty { reference["subresource"] = .string(attributes.subresource) }
        objectRef = .object(reference)
    }

    /// The request body at Request level and above (a create also names its object, as upstream's LogRequestObject).
    public mutating func logRequest(_ object: JSONValue) {
        guard level >= .request else { return }
        requestObject = stripped(object)
        if objectRef != .null, objectRef["name"] == .null, let name = object["metadata"]["name"].stringValue { objectRef["name"] = .string(name) }
    }

    /// The response: its status (bounded fields of a Status body) at every level, the body at RequestResponse.
    public mutating func logResponse(code: Int, body: JSONValue) {
        var status: JSONObject = ["metadata": [:]]
        if body["kind"] == "Status" {
            for key in ["status", "message", "reason", "details"] where body[key] != .null { status[key] = body[key] }
        }
        status["code"] = .int(Int64(code))
        responseStatus = .object(status)
        if level >= .requestResponse, body != .null { responseObject = stripped(body) }
    }

    func stripped(_ object: JSONValue) -> JSONValue {
        guard omitManagedFields, object["metadata"]["managedFields"] != .null else { return object }
        var copy = object
        copy["metadata"]["managedFields"] = .null
        return copy
    }

    /// The JSON line for `stage`, written at `now`.
    public func line(stage: AuditStage, now: Date) -> [UInt8] {
        var event: JSONObject = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": .string(level.rawValue), "auditID": .string(auditID),
            "stage": .string(stage.rawValue), "requestURI": .string(requestURI), "verb": .string(verb),
            "user": user.map(Self.userJSON) ?? [:], "sourceIPs": .array(sourceIPs.map { .string($0) }),
        ]
        if let impersonatedUser { event["impersonatedUser"] = Self.userJSON(impersonatedUser) }
        if let userAgent { event["userAgent"] = .string(userAgent) }
        if objectRef != .null { event["objectRef"] = objectRef }
        if stage != .requestReceived, responseStatus != .null { event["responseStatus"] = responseStatus }
        if requestObject != .null { event["requestObject"] = requestObject }
        if stage == .responseComplete, responseObject != .null { event["responseObject"] = responseObject }
        event["requestReceivedTimestamp"] = .string(KubeTime.formatMicro(received))
        event["stageTimestamp"] = .string(KubeTime.formatMicro(now))
        if !annotations.isEmpty { event["annotations"] = .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
        return JSONWriter.bytes(.object(event)) + [0x0A]
    }

    static func userJSON(_ user: UserInfo) -> JSONValue {
        var json: JSONObject = ["username": .string(user.name)]
        if !user.uid.isEmpty { json["uid"] = .string(user.uid) }
        if !user.groups.isEmpty { json["groups"] = .array(user.groups.map { .string($0) }) }
        if !user.extra.isEmpty {
            json["extra"] = .object(JSONObject(user.extra.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map { .string($0) })) }))
        }
        return .object(json)
    }
}
