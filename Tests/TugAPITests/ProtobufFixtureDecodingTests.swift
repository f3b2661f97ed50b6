import Foundation
import Testing
import TugAPI
import TugAPIMachinery

/// Every protobuf body kubectl 1.32 sent in the probe decodes with the production schemas, and to the right JSON.
@Suite struct ProtobufFixtureDecodingTests {
    static func fixtures() throws -> [(command: String, body: [UInt8])] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../shared/fixtures/kubectl-probe/protobuf-bodies.jsonl").standardized.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let entry = try JSONParser.parseValue(String(line))
            return (entry["command"].stringValue ?? "", Base64.decode(entry["body_b64"].stringValue ?? "") ?? [])
        }
    }

    static let sideSchemas: [String: TypeSchema] = [
        "SelfSubjectAccessReview": ClusterSchemas.selfSubjectAccessReview,
        "TokenRequest": ClusterSchemas.tokenRequest,
    ]

    static func decode(_ body: [UInt8]) throws -> JSONValue {
        let envelope = try ProtobufDecoder.envelope(body)
        let group = envelope.apiVersion.contains("/") ? String(envelope.apiVersion.split(separator: "/")[0]) : ""
        let version = String(envelope.apiVersion.split(separator: "/").last ?? "")
        let schema = try #require(Scheme.builtIn.kind(group: group, version: version, kind: envelope.kind)?.schema ?? sideSchemas[envelope.kind],
                                  "no schema for \(envelope.apiVersion) \(envelope.kind)")
        return try ProtobufDecoder.decode(envelope.raw, schema: schema)
    }

    @Test func everyFixtureDecodes() throws {
        let all = try Self.fixtures()
        #expect(all.count == 11)
        for (command, body) in all {
            #expect(throws: Never.self, "\(command)") { _ = try Self.decode(body) }
        }
    }

    @Test func decodedObjectsMatchWhatKubectlMeant() throws {
        let all = Dictionary(try Self.fixtures().map { ($0.command, $0.body) }, uniquingKeysWith: { a, _ in a })
        func object(_ command: String) throws -> JSONValue { try Self.decode(try #require(all[command], "missing fixture \(command)")) }

        let deployment = try object("kubectl create deployment d2 --image=nginx:1.25 --replicas=2 --port=80")
        #expect(deployment["metadata"] == ["name": "d2", "labels": ["app": "d2"]])
        #expect(deployment["spec"]["replicas"] == 2)
        #expect(deployment["spec"]["selector"] == ["matchLabels": ["app": "d2"]])
        #expect(deployment["spec"]["template"]["spec"]["containers"] == [["name": "nginx", "image": "nginx:1.25", "ports": [["containerPort": 80]]]])

        let service = try object("kubectl create service clusterip svc1 --tcp=80:8080")
        #expect(service["spec"]["ports"] == [["name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080]])
        #expect(service["spec"]["type"] == "ClusterIP")

        let secret = try object("kubectl create secret generic s1 --from-literal=k=v")
        #expect(secret["data"] == ["k": "dg=="])

        let configMap = try object("kubectl create configmap cm1 --from-literal=a=b")
        #expect(configMap["data"] == ["a": "b"])

        let job = try object("kubectl create job j1 --image=busybox -- echo hi")
        #expect(job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"])
        #expect(job["spec"]["template"]["spec"]["restartPolicy"] == "Never")

        let cronJob = try object("kubectl create cronjob cj2")
        #expect(cronJob["spec"]["schedule"] == "*/1 * * * *")
        #expect(cronJob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure")

        let review = try object("kubectl auth can-i get pods --subresource=log -n kube-system")
        #expect(review["spec"]["resourceAttributes"] == ["namespace": "kube-system", "verb": "get", "resource": "pods", "subresource": "log"])
    }
}
