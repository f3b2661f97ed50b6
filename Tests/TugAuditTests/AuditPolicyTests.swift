import Foundation
import Testing
import TugAPIMachinery
import TugAuth
@testable import TugAudit

@Suite struct AuditPolicyTests {
    let jane = UserInfo(name: "jane", groups: ["devs", "system:authenticated"])

    func resource(_ verb: String, _ resource: String, sub: String = "", group: String = "", namespace: String = "default", name: String = "",
                  user: UserInfo? = nil) -> AuthorizationAttributes {
        AuthorizationAttributes(user: user ?? jane, verb: verb, apiGroup: group, apiVersion: "v1", resource: resource, subresource: sub,
                                namespace: namespace, name: name)
    }

    static let policyText = """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages: [RequestReceived]
        rules:
        - level: None
          nonResourceURLs: ["/healthz*", "/version"]
        - level: None
          users: ["system:kube-proxy"]
          verbs: ["watch"]
        - level: Metadata
          resources:
          - group: ""
            resources: ["secrets", "configmaps"]
        - level: RequestResponse
          namespaces: ["prod"]
          resources:
          - group: "apps"
            resources: ["deployments/*"]
        - level: Request
          userGroups: ["devs"]
          resources:
          - group: ""
            resources: ["pods/log", "*/status"]
            resourceNames: ["web"]
          omitStages: [ResponseStarted]
        - level: Metadata
          omitManagedFields: true
        """

    @Test func firstMatchingRuleDecides() throws {
        let policy = try AuditPolicy.parse(Self.policyText)
        #expect(policy.decide(AuthorizationAttributes(user: jane, verb: "get", path: "/healthz/etcd")).level == .none)
        #expect(policy.decide(AuthorizationAttributes(user: jane, verb: "get", path: "/version")).level == .none)
        #expect(policy.decide(AuthorizationAttributes(user: jane, verb: "get", path: "/versions")).level == .metadata)
        #expect(policy.decide(resource("watch", "endpoints", user: UserInfo(name: "system:kube-proxy", groups: []))).level == .none)
        #expect(policy.decide(resource("get", "secrets", name: "db")).level == .metadata, "secrets never at Request level")
        #expect(policy.decide(resource("update", "deployments", group: "apps", namespace: "prod")).level == .requestResponse)
        #expect(policy.decide(resource("update", "deployments", sub: "scale", group: "apps", namespace: "prod")).level == .requestResponse)
        #expect(policy.decide(resource("update", "deployments", group: "apps", namespace: "dev")).level == .metadata)
        let log = policy.decide(resource("get", "pods", sub: "log", name: "web"))
        #expect(log.level == .request && log.omitStages == [.requestReceived, .responseStarted], "the rule's stages and the policy's")
        #expect(policy.decide(resource("update", "nodes", sub: "status", namespace: "", name: "web")).level == .request)
        #expect(policy.decide(resource("get", "pods", sub: "log", name: "db")).level == .metadata, "resourceNames")
        #expect(policy.decide(resource("get", "pods", sub: "log", name: "web", user: UserInfo(name: "bob", groups: []))).level == .metadata)
        let rest = policy.decide(resource("list", "pods"))
        #expect(rest.level == .metadata && rest.omitManagedFields && rest.omitStages == [.requestReceived])
        #expect(policy.decide(nil).level == .metadata, "a request that failed authentication matches rules without users")
        #expect(AuditPolicy(rules: []).decide(resource("get", "pods")).level == .none, "no rule: None")
    }

    @Test func invalidPoliciesAreRefusedWithTheirFieldPaths() {
        let cases: [(String, String)] = [
            ("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]", "apiVersion: Unsupported value: \"audit.k8s.io/v1beta1\""),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]", "rules[0].level: Unsupported value: \"Everything\""),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{verbs: [get]}]", "rules[0].level: Required value"),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Done]\nrules: []", "omitStages[0]: Unsupported value: \"Done\""),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [/x], namespaces: [a]}]",
             "rules cannot apply to both regular resources and non-resource URLs"),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: ['/a*b']}]", "may only use wildcards ('*') at the end"),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{group: '', resourceNames: [x]}]}]",
             "using resourceNames requires at least one resource"),
            ("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, resources: [{resources: ['po*']}]}]", "resources[0].resources[0]: Invalid value: \"po*\""),
            ("{", "not YAML or JSON"),
        ]
        for (text, message) in cases {
            #expect { try AuditPolicy.parse(text) } throws: { "\($0)".contains(message) }
        }
    }

    @Test func eventsAreUpstreamsJSONLines() throws {
        var event = AuditEvent(level: .requestResponse, auditID: "a1", requestURI: "/api/v1/namespaces/default/pods", verb: "create",
                               user: jane, sourceIPs: ["127.0.0.1"], userAgent: "kubectl/v1.32.0", received: Date(timeIntervalSince1970: 1_800_000_000.5))
        event.omitManagedFields = true
        event.refer(to: resource("create", "pods"))
        event.logRequest(["kind": "Pod", "metadata": ["name": "web", "managedFields": [["manager": "kubectl"]]]])
        event.logResponse(code: 409, body: ["kind": "Status", "status": "Failure", "reason": "AlreadyExists", "message": "pods \"web\" already exists", "code": 409])
        let received = try JSONParser.parseValue(event.line(stage: .requestReceived, now: Date(timeIntervalSince1970: 1_800_000_000.5)))
        #expect(received["stage"] == "RequestReceived" && received["responseStatus"].isNull && received["responseObject"].isNull)
        let line = event.line(stage: .responseComplete, now: Date(timeIntervalSince1970: 1_800_000_001))
        #expect(line.last == 0x0A && !line.dropLast().contains(0x0A), "one line per event")
        let json = try JSONParser.parseValue(line)
        #expect(json["kind"] == "Event" && json["apiVersion"] == "audit.k8s.io/v1" && json["auditID"] == "a1" && json["level"] == "RequestResponse")
        #expect(json["user"] == ["username": "jane", "groups": ["devs", "system:authenticated"]])
        #expect(json["objectRef"] == ["resource": "pods", "namespace": "default", "name": "web", "apiVersion": "v1"], "a create names its object")
        #expect(json["requestObject"]["metadata"] == ["name": "web"], "omitManagedFields")
        #expect(json["responseStatus"] == ["metadata": [:], "status": "Failure", "message": "pods \"web\" already exists", "reason": "AlreadyExists", "code": 409])
        #expect(json["requestReceivedTimestamp"] == "2027-01-15T08:00:00.500000Z" && json["stageTimestamp"] == "2027-01-15T08:00:01.000000Z")
        var metadata = AuditEvent(level: .metadata, requestURI: "/api/v1/secrets", verb: "list", user: jane, sourceIPs: [], userAgent: nil, received: Date())
        metadata.logRequest(["kind": "Secret", "data": ["k": "c2VjcmV0"]])
        metadata.logResponse(code: 200, body: ["kind": "SecretList"])
        let quiet = try JSONParser.parseValue(metadata.line(stage: .responseComplete, now: Date()))
        #expect(quiet["requestObject"].isNull && quiet["responseObject"].isNull && quiet["responseStatus"] == ["metadata": [:], "code": 200])
    }
}
