import Logging
import ServiceLifecycle

extension ServiceGroupConfiguration {
    /// How every `tug` process runs its services: SIGTERM and SIGINT shut it down gracefully, and so does a service
    /// that fails (the others stop in reverse order, as on SIGTERM, and the failure is what the command reports)
    /// instead of a group-wide cancellation racing the failure. Cancellation comes only after the grace period.
    static func tug(_ services: [any Service], logger: Logger, gracePeriod: Duration = .seconds(10)) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // A service that does not finish its graceful shutdown in time is cancelled rather than holding the process:
        // acknowledged writes are already on disk. Every service ends on cancellation well within this bound.
        configuration.maximumGracefulShutdownDuration = gracePeriod
        configuration.maximumCancellationDuration = .seconds(5)
        return configuration
    }
}

extension ServiceGroup {
    /// Runs the group; a service that stopped early is reported in one line naming it (its cause is logged above).
    static func runReportingFailure(_ group: ServiceGroup) async throws {
        do {
            try await group.run()
        } catch let error as ServiceGroupError {
            throw CommandFailure("a service stopped unexpectedly (\(error)); its cause is logged above")
        }
    }
}
