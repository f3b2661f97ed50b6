import Dispatch
#if canImport(Glibc)
import Glibc
#endif
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
        // No cancellation deadline of ServiceLifecycle's own: it ends the process with a fatal error and a
        // backtrace (seen at 77,000 pods, a ReplicaSet claim pass still running). `ShutdownDeadline` bounds it.
        configuration.maximumCancellationDuration = nil
        return configuration
    }
}

/// The hard bound on shutdown: once SIGTERM or SIGINT arrives, a process still running after the grace period
/// plus five seconds of cancellation prints one line and exits 1. Acknowledged writes are already on disk.
enum ShutdownDeadline {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

    static func arm(after limit: Duration = .seconds(15)) {
        for signal in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler {
                let seconds = Int(limit.components.seconds)
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) {
                    let line = Array("tug: shutdown did not finish within \(seconds) s of the signal; exiting\n".utf8)
                    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                    _exit(1)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}

extension ServiceGroup {
    /// Runs the group; a service that stopped early is reported in one line naming it (its cause is logged above).
    static func runReportingFailure(_ group: ServiceGroup) async throws {
        ShutdownDeadline.arm()
        do {
            try await group.run()
        } catch let error as ServiceGroupError {
            throw CommandFailure("a service stopped unexpectedly (\(error)); its cause is logged above")
        }
    }
}
