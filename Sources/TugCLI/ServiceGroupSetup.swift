import Foundation
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle
import Synchronization
import TugControllerRuntime

extension ServiceGroupConfiguration {
    /// How every `tug` process runs its services: SIGTERM and SIGINT shut it down gracefully, and so does a service
    /// that fails (the others stop in reverse order, as on SIGTERM, and the failure is what the command reports)
    /// instead of a group-wide cancellation racing the failure. Cancellation comes only after the grace period.
    static func tug(_ services: [any Service], logger: Logger, gracePeriod: Duration = .seconds(10)) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(
            services: services.enumerated().map { .init(service: TrackedService(base: $1, id: $0), failureTerminationBehavior: .gracefullyShutdownGroup) },
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
    /// What the process is doing once its services have stopped, named when the deadline passes.
    static let phase = Mutex("starting")

    /// Enters the next step of a shutdown; the steps of one that takes over two seconds are printed as it ends.
    static func entering(_ step: String) {
        phase.withLock { $0 = step }
        guard let since = signalled.withLock({ $0 }) else { return }
        steps.withLock { $0.append((step, ContinuousClock.now - since)) }
    }

    static let steps = Mutex<[(step: String, at: Duration)]>([])

    /// One line with the shutdown's steps and when each began, when it took longer than two seconds.
    static func reportSlowShutdown() {
        guard let since = signalled.withLock({ $0 }), ContinuousClock.now - since > .seconds(2) else { return }
        let parts = steps.withLock { $0 }.map { step in
            String(format: "%.1f s ", Double(step.at.components.seconds) + Double(step.at.components.attoseconds) / 1e18) + step.step
        }
        FileHandle.standardError.write(Data("tug: slow shutdown: \(parts.joined(separator: "; "))\n".utf8))
    }

    /// When SIGTERM or SIGINT arrived (nil until then).
    static let signalled = Mutex<ContinuousClock.Instant?>(nil)

    static func arm(after limit: Duration = .seconds(15), gracePeriod: Duration = .seconds(10)) {
        for signal in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler {
                signalled.withLock { $0 = $0 ?? .now }
                let seconds = Int(limit.components.seconds)
                // Services still running when the grace period ends are cancelled: say which, as that is a bug to fix.
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(gracePeriod.components.seconds))) {
                    let running = TrackedService.running.withLock { Array(Set($0.values)).sorted() }
                    guard !running.isEmpty else { return }
                    let line = Array("tug: still stopping \(gracePeriod.components.seconds) s after the signal, cancelling: \(running.joined(separator: ", "))\n".utf8)
                    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) {
                    let running = TrackedService.running.withLock { Array(Set($0.values)).sorted() }
                    let holding = running.isEmpty ? " (\(ShutdownDeadline.phase.withLock { $0 }))"
                        : " (still running: \(running.joined(separator: ", ")))"
                    let line = Array("tug: shutdown did not finish within \(seconds) s of the signal\(holding); exiting\n".utf8)
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
            ShutdownDeadline.entering("the service group returned")
        } catch let error as ServiceGroupError {
            throw CommandFailure("a service stopped unexpectedly (\(error)); its cause is logged above")
        }
    }
}

/// A service of the group that is listed while it runs, so a shutdown that misses its deadline names what held it.
struct TrackedService: Service, CustomStringConvertible {
    static let running = Mutex<[Int: String]>([:])

    let base: any Service
    let id: Int

    /// The service's type without generic arguments (`Application`, not `Application<CallbackResponder<…>>`).
    var name: String {
        if let named = base as? any NamedService { return named.serviceName }
        return String(String(describing: type(of: base)).prefix { $0 != "<" })
    }

    /// How ServiceLifecycle names it in its logs: as the service itself.
    var description: String { String(describing: base) }

    func run() async throws {
        Self.running.withLock { $0[id] = name }
        defer {
            let last = Self.running.withLock { running in
                running.removeValue(forKey: id)
                return running.isEmpty
            }
            ShutdownDeadline.entering(last ? "every service stopped; the service group ending" : "\(name) stopped")
        }
        try await base.run()
    }
}
