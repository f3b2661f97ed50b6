import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TugAPI
import TugAPIMachinery
@testable import TugAPIServer
import TugRegistry
import TugStorage

/// The API server in process, over Hummingbird's router test client (no sockets, no TLS).
struct TestServer {
    static let token = "test-token"

    static func run(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await run { client, _ in try await body(client) }
    }

    static func run(_ body: @Sendable (any TestClientProtocol, APIServer) async throws -> Void) async throws {
        let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend())
        try await Bootstrap.ensure(store, apiServerAddress: "127.0.0.1", apiServerPort: 6443)
        try await RBACPolicyService.prepare(store)
        let credentials = ClusterCredentials(caPEM: "", servingCertificatePEM: "", servingKeyPEM: "", adminToken: token)
        let server = try APIServer(store: store, configuration: .init(bindAddress: "127.0.0.1", port: 6443, credentials: credentials),
                               logger: .init(label: "test"))
        let app = Application(responder: server.responder())
        try await app.test(.router) { client in try await body(client, server) }
    }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, contentType: String = "application/json",
              accept: String = "application/json", token: String? = TestServer.token) async throws -> (Int, JSONValue, String) {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.accept] = accept
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            return (response.status.code, (try? JSONParser.parseValue(text)) ?? .null, text)
        }
    }
}

@Suite struct APIServerTests {
    @Test func requiresBearerToken() async throws {
        try await TestServer.run { client in
            let (code, body, _) = try await client.call(.get, "/api/v1/namespaces", token: nil)
            #expect(code == 401)
            #expect(body["reason"] == "Unauthorized")
            #expect(try await client.call(.get, "/api/v1/namespaces", token: "wrong").0 == 401)
            #expect(try await client.call(.get, "/version", token: nil).1["minor"] == "32")
            #expect(try await client.call(.get, "/readyz", token: nil).0 == 200)
        }
    }

    @Test func discoveryListsResourcesAndAggregatedFormat() async throws {
        try await TestServer.run { client in
            let (_, apps, _) = try await client.call(.get, "/apis/apps/v1")
            let names = apps["resources"].arrayValue?.compactMap { $0["name"].stringValue } ?? []
            #expect(names.contains("deployments") && names.contains("deployments/scale"))
            let (_, aggregated, _) = try await client.call(.get, "/apis", accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")
            #expect(aggregated["kind"] == "APIGroupDiscoveryList")
            let (_, index, _) = try await client.call(.get, "/openapi/v3")
            #expect(index["paths"]["apis/apps/v1"]["serverRelativeURL"].stringValue?.hasPrefix("/openapi/v3/apis/apps/v1?hash=") == true)
        }
    }

    @Test func crudWithStatusErrors() async throws {
        try await TestServer.run { client in
            let cm = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"}}"#
            let (created, body, _) = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: cm)
            #expect(created == 201 && body["data"]["k"] == "v")
            let (dup, dupBody, _) = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: cm)
            #expect(dup == 409 && dupBody["reason"] == "AlreadyExists" && dupBody["message"] == "configmaps \"c\" already exists")
            let (missing, missingBody, _) = try await client.call(.get, "/apis/apps/v1/namespaces/default/deployments/web")
            #expect(missing == 404 && missingBody["message"] == "deployments.apps \"web\" not found")
            let (bad, badBody, _) = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: "{not json")
            #expect(bad == 400 && badBody["kind"] == "Status")
            let (strict, strictBody, _) = try await client.call(.post, "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                                                                 body: #"{"metadata":{"name":"d"},"dta":{}}"#)
            #expect(strict == 400 && strictBody["message"] == "strict decoding error: unknown field \"dta\"")
            let (dry, _, _) = try await client.call(.post, "/api/v1/namespaces/default/configmaps?dryRun=All", body: #"{"metadata":{"name":"dry"}}"#)
            #expect(dry == 201)
            #expect(try await client.call(.get, "/api/v1/namespaces/default/configmaps/dry").0 == 404)
            // DeleteOptions may name meta.k8s.io/v1 (client-go) or v1.
            let (deleted, _, _) = try await client.call(.delete, "/api/v1/namespaces/default/configmaps/c",
                                                        body: #"{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","propagationPolicy":"Background"}"#)
            #expect(deleted == 200)
            let (wrongKind, _, _) = try await client.call(.delete, "/api/v1/namespaces/default/configmaps/d", body: #"{"kind":"Pod","apiVersion":"v1"}"#)
            #expect(wrongKind == 400)
        }
    }

    @Test func tablesForKubectlGet() async throws {
        try await TestServer.run { client in
            let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            let (code, body, _) = try await client.call(.get, "/api/v1/namespaces?limit=500", accept: table)
            #expect(code == 200 && body["kind"] == "Table")
            #expect(body["columnDefinitions"].arrayValue?.map { $0["name"] } == ["Name", "Status", "Age"])
            #expect(body["rows"].arrayValue?.count == 4)
            #expect(body["rows"][0]["object"]["kind"] == "PartialObjectMetadata")
            #expect(!(body["metadata"]["resourceVersion"].stringValue ?? "").isEmpty)
        }
    }

    @Test func watchReplaysFromResourceVersionAndReports410() async throws {
        try await TestServer.run { client in
            let (_, list, _) = try await client.call(.get, "/api/v1/namespaces/default/configmaps")
            let rv = list["metadata"]["resourceVersion"].stringValue ?? "0"
            _ = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: #"{"metadata":{"name":"w","labels":{"a":"1"}}}"#)
            _ = try await client.call(.patch, "/api/v1/namespaces/default/configmaps/w", body: #"{"metadata":{"labels":{"a":"2"}}}"#,
                                      contentType: "application/merge-patch+json")
            let (code, _, text) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(rv)&labelSelector=a%3D1&timeoutSeconds=1")
            #expect(code == 200)
            let types = text.split(separator: "\n").compactMap { try? JSONParser.parseValue(String($0))["type"].stringValue }
            #expect(types == ["ADDED", "DELETED"], "the object stops matching a=1, so the watcher sees DELETED")
            let (_, _, expired) = try await client.call(.get, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=-5")
            #expect(expired.contains("BadRequest") || expired.contains("must be"))
        }
    }

    @Test func scaleSubresource() async throws {
        try await TestServer.run { client in
            let deploy = #"{"metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}"#
            #expect(try await client.call(.post, "/apis/apps/v1/namespaces/default/deployments", body: deploy).0 == 201)
            let (code, scale, _) = try await client.call(.patch, "/apis/apps/v1/namespaces/default/deployments/web/scale", body: #"{"spec":{"replicas":4}}"#,
                                                         contentType: "application/merge-patch+json")
            #expect(code == 200 && scale["kind"] == "Scale" && scale["spec"]["replicas"] == 4 && scale["status"]["selector"] == "app=web")
            #expect(try await client.call(.get, "/apis/apps/v1/namespaces/default/deployments/web").1["spec"]["replicas"] == 4)
        }
    }

    @Test func oversizedBodiesAreRejected() async throws {
        try await TestServer.run { client in
            let big = #"{"metadata":{"name":"big"},"data":{"k":""# + String(repeating: "x", count: 3 * 1024 * 1024 + 10) + #""}}"#
            let (code, body, _) = try await client.call(.post, "/api/v1/namespaces/default/configmaps", body: big)
            #expect(code == 413 && body["reason"] == "RequestEntityTooLarge")
        }
    }
}

@Suite struct WatchLineTests {
    /// A line written in slices reassembles to exactly one JSON event and a newline, whatever the slice size.
    @Test func slicesReassembleToOneLine() async throws {
        let object = Array(#"{"kind":"ConfigMap","data":{"k":"0123456789abcdef"}}"#.utf8)
        var suffix = Array(#","type":"ADDED"}"#.utf8)
        suffix.append(0x0A)
        let line = WatchLine(object: object, suffix: suffix)
        for size in [1, 7, object.count, object.count + 100] {
            var written: [UInt8] = []
            var writes = 0
            try await line.write(slicesOf: size) { buffer in
                written += buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
                writes += 1
            }
            #expect(writes == max(1, (object.count + size - 1) / size))
            #expect(written.last == 0x0A)
            let event = try JSONParser.parseValue(Array(written.dropLast()))
            #expect(event["type"] == "ADDED" && event["object"]["data"]["k"] == "0123456789abcdef")
        }
        // A whole line with no event framing (a BOOKMARK) goes out as it is.
        var bookmark: [UInt8] = []
        try await WatchLine(prefix: [], object: Array(#"{"type":"BOOKMARK"}"#.utf8), suffix: [0x0A]).write(slicesOf: 64 << 10) {
            bookmark += $0.getBytes(at: $0.readerIndex, length: $0.readableBytes) ?? []
        }
        #expect(String(decoding: bookmark, as: UTF8.self) == "{\"type\":\"BOOKMARK\"}\n")
    }
}
