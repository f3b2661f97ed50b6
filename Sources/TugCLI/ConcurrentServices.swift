import ServiceLifecycle
import TugControllerRuntime

/// Services that run and stop side by side, as one service of the group. ServiceLifecycle stops a group's services
/// one after another in reverse order, each once the previous has finished: right for the API server and the store
/// (the control loops must stop before them), needless among the control loops themselves, which have nothing to
/// order between them. Stopped one by one after an hour's soak at 5,000 nodes they took 12 s, past the 10 s grace
/// period; together, shutdown takes as long as the slowest.
struct ConcurrentServices: NamedService {
    let serviceName: String
    let services: [any Service]
    /// Where their ids start in the slow-shutdown report (each is still tracked by name).
    let firstID: Int

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for (offset, service) in services.enumerated() {
                let tracked = TrackedService(base: service, id: firstID + offset)
                // Graceful shutdown reaches every child at once: they inherit this task's shutdown signal.
                group.addTask { try await tracked.run() }
            }
        }
    }
}
