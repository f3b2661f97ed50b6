import Synchronization
import Testing
import TugAPI
import TugAPIMachinery
@testable import TugAPIServer
import TugClient
import TugRegistry
import TugStorage

/// The transport tug server's own components use: requests handed to the API server's handler in process.
@Suite struct InProcessTransportTests {
    static func server() async throws -> APIServer {
        let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend())
        try await Bootstrap.ensure(store, apiServerAddress: "127.0.0.1", apiServerPort: 6443)
        try await RBACPolicyService.prepare(store)
        let credentials = ClusterCredentials(caPEM: "", servingCertificatePEM: "", servingKeyPEM: "", adminToken: TestServer.token)
        return try APIServer(store: store, configuration: .init(bindAddress: "127.0.0.1", port: 6443, credentials: credentials),
                             logger: .init(label: "test"))
    }

    static let configMap: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings"], "data": ["a": "1"]]

    @Test func requestsAreAuthenticatedAndAnsweredLikeOverHTTPS() async throws {
        let server = try await Self.server()
        let client = RESTClient(transport: InProcessTransport(server: server), token: TestServer.token)
        let created = try await client.create("/api/v1/namespaces/default/configmaps", Self.configMap)
        #expect(created["metadata"]["uid"].stringValue?.isEmpty == false)
        let conflict = try await client.request(.POST, "/api/v1/namespaces/default/configmaps", body: Self.configMap)
        #expect(conflict.status == 409 && conflict.json["reason"] == "AlreadyExists")
        #expect(try await client.send(.GET, "/api/v1/namespaces/default/configmaps/settings")["data"]["a"] == "1")
        let anonymous = RESTClient(transport: InProcessTransport(server: server), token: nil)
        #expect(try await anonymous.request(.GET, "/api/v1/namespaces").status == 401)
        #expect(try await RESTClient(transport: InProcessTransport(server: server), token: "wrong").request(.GET, "/api/v1/namespaces").status == 401)
    }

    @Test func aBodyOverTheCallersLimitIsRefused() async throws {
        let server = try await Self.server()
        let client = RESTClient(transport: InProcessTransport(server: server), token: TestServer.token)
        await #expect(throws: InProcessTransportError.self) {
            try await client.request(.GET, "/openapi/v2", maxBody: 1024)
        }
    }

    @Test func aWatchStreamsEventsUntilTheCallerStops() async throws {
        let server = try await Self.server()
        let client = RESTClient(transport: InProcessTransport(server: server), token: TestServer.token)
        let list = try await client.send(.GET, "/api/v1/namespaces/default/configmaps")
        let version = list["metadata"]["resourceVersion"].stringValue ?? ""
        let seen = Recorder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await client.watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=\(version)") { event in
                    seen.append(event["type"].stringValue ?? "")
                    return event["type"] != "MODIFIED"
                }
            }
            try await client.create("/api/v1/namespaces/default/configmaps", Self.configMap)
            try await client.mergePatch("/api/v1/namespaces/default/configmaps/settings", ["data": ["a": "2"]])
            try await group.waitForAll()
        }
        #expect(seen.values == ["ADDED", "MODIFIED"])
    }

    @Test func cancellingTheCallerEndsAWatch() async throws {
        let server = try await Self.server()
        let client = RESTClient(transport: InProcessTransport(server: server), token: TestServer.token)
        try await client.create("/api/v1/namespaces/default/configmaps", Self.configMap)
        let seen = Recorder()
        let watch = Task {
            try await client.watch("/api/v1/namespaces/default/configmaps?watch=1") { event in
                seen.append(event["type"].stringValue ?? "")
                return true
            }
        }
        // Open once the existing object came as ADDED; cancelling the task must then end it (else the test hangs).
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.values.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(seen.values == ["ADDED"])
        watch.cancel()
        _ = await watch.result
    }
}

final class Recorder: Sendable {
    private let state = Mutex<[String]>([])
    var values: [String] { state.withLock { $0 } }
    func append(_ value: String) { state.withLock { $0.append(value) } }
}
