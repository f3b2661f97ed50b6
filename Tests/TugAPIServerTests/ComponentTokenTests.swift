import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TugAPIMachinery
@testable import TugAPIServer

/// The in-process scheduler and controllers authenticate as themselves, so flow control classifies them as
/// upstream's components (workload-high), not as the exempt admin.
@Suite struct ComponentTokenTests {
    @Test func componentsAreThemselvesAndNotTheAdmin() async throws {
        try await TestServer.run { client, server in
            let controllers = try #require(server.components.token(for: .kubeControllerManager))
            let scheduler = try #require(server.components.token(for: .kubeScheduler))
            #expect(controllers != scheduler && controllers != TestServer.token)
            #expect(try server.authenticate(authorization: "Bearer \(controllers)") == .kubeControllerManager)
            #expect(try server.authenticate(authorization: "Bearer \(scheduler)") == .kubeScheduler)
            #expect(server.components.token(for: .admin) == nil)

            let (code, _, _) = try await client.call(.get, "/api/v1/namespaces", token: controllers)
            #expect(code == 200)
            let (wrong, _, _) = try await client.call(.get, "/api/v1/namespaces", token: controllers + "0")
            #expect(wrong == 401)
        }
    }
}
