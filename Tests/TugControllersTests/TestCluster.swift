import Foundation
import Logging
import Synchronization
import TugAPI
import TugAPIMachinery
import TugAPIServer
import TugClient
import TugControllerRuntime
import TugRegistry
import TugStorage
import TugTestSupport

/// The real API server in process (in-memory store, HTTPS on a loopback port the kernel picks) with a client for
/// controllers under test; no node agent, so pods stay as the controllers leave them.
enum TestCluster {
    static func run(_ body: @escaping @Sendable (RESTClient) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tug-controllers-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credentials = try ClusterCredentials.loadOrCreate(directory: directory, hosts: ["127.0.0.1"])
        let store = ObjectStore(scheme: .builtIn, backend: InMemoryBackend())
        try await Bootstrap.ensure(store, apiServerAddress: "127.0.0.1", apiServerPort: 6443)
        try await RBACPolicyService.prepare(store)
        let server = try APIServer(store: store, configuration: .init(bindAddress: "127.0.0.1", port: 0, credentials: credentials),
                                   logger: Logger(label: "test.apiserver"))
        let port = Mutex<Int>(0)
        let listening = Gate()
        let app = try server.application(onServerRunning: { bound in
            port.withLock { $0 = bound }
            listening.open()
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            await listening.wait()
            let client = try RESTClient(kubeconfig: Kubeconfig(server: "https://127.0.0.1:\(port.withLock { $0 })", caPEM: credentials.caPEM,
                                                               token: credentials.adminToken))
            do {
                try await body(client)
            } catch {
                try? await client.shutdown()
                server.closeStreams()
                group.cancelAll()
                throw error
            }
            try? await client.shutdown()
            server.closeStreams()
            group.cancelAll()
        }
    }

    /// Runs `services` (informers, controller runners) around `body`, cancelling them after.
    static func with(_ services: [any Sendable & RunnableService], _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.runService() } }
            defer { group.cancelAll() }
            try await body()
        }
    }
}

/// What `TestCluster.with` can run: anything with an async `run`.
protocol RunnableService {
    func runService() async throws
}

extension InformerFactory: RunnableService {
    func runService() async throws { try await run() }
}

extension ControllerRunner: RunnableService {
    func runService() async throws { try await run() }
}

/// Moves the controllers' clock forward `step` at a time until `condition` holds (failing after `timeout` of real
/// time). Stepping, rather than one jump, lets timers armed late (after a retry) come due too.
func advance(_ time: ManualTime, by step: Duration, until what: String, timeout: Duration = .seconds(10),
             _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now > deadline { throw TimedOut(what: what) }
        time.advance(by: step)
        try await Task.sleep(for: .milliseconds(20))
    }
}

extension RESTClient {
    func items(_ path: String) async throws -> [JSONValue] {
        try await send(.GET, path)["items"].arrayValue ?? []
    }
}
