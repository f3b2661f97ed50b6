import Logging
import ServiceLifecycle
import TugControllerRuntime

/// The loop the proxy and the NetworkPolicy enforcer share: one sync per burst of changes; after a failure, a full
/// sync a second later. Ends at graceful shutdown.
enum RuleSyncLoop {
    static func run(_ signal: ChangeSignal, applier: RuleSetApplier, what: String, logger: Logger,
                    render: @Sendable () -> RuleSet) async {
        signal.notify()
        for await _ in signal.changes.cancelOnGracefulShutdown() {
            let started = ContinuousClock.now
            do {
                let outcome = try await applier.apply(render())
                if outcome.lines > 0 {
                    logger.debug("\(what) rules synced", metadata: ["full": "\(outcome.full)", "lines": "\(outcome.lines)", "rules": "\(outcome.rules)",
                                                                   "elapsed": "\(ContinuousClock.now - started)"])
                }
            } catch {
                logger.error("\(what) rules sync failed; retrying with a full sync", metadata: ["error": "\(error)"])
                await applier.invalidate()
                try? await Task.sleep(for: .seconds(1))
                signal.notify()
            }
        }
    }
}
