public import Logging
public import ServiceLifecycle

/// What a reconcile asks of the runner once it succeeded.
public enum ReconcileResult: Sendable, Equatable {
    case done
    /// Look at the key again after this long (deadlines, minReadySeconds, schedules).
    case requeueAfter(Duration)
}

/// A level-triggered controller: informer handlers enqueue keys into `queue`; `reconcile` reads the caches and
/// writes only the difference between what is and what should be. Throwing retries the key with back-off.
public protocol Controller: Sendable {
    associatedtype Key: Hashable & Sendable & CustomStringConvertible
    var name: String { get }
    var queue: WorkQueue<Key> { get }
    /// The informers whose first list must be in before the first reconcile.
    var informers: [Informer] { get }
    func reconcile(_ key: Key) async throws -> ReconcileResult
}

/// Runs a controller as a service: waits for its caches, then `workers` loops of get → reconcile → forget or
/// addRateLimited → done, until graceful shutdown.
public struct ControllerRunner<C: Controller>: Service {
    let controller: C
    let workers: Int
    let logger: Logger

    public init(_ controller: C, workers: Int = 2, logger: Logger) {
        self.controller = controller
        self.workers = workers
        var logger = logger
        logger[metadataKey: "controller"] = "\(controller.name)"
        self.logger = logger
    }

    public func run() async throws {
        let queue = controller.queue
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                for informer in controller.informers { await informer.waitForSync() }
                await withDiscardingTaskGroup { group in
                    group.addTask { await queue.runTimers() }
                    for _ in 0..<workers {
                        group.addTask { await work(queue) }
                    }
                }
            } onCancel: {
                queue.shutDown()
            }
        } onGracefulShutdown: {
            queue.shutDown()
        }
    }

    func work(_ queue: WorkQueue<C.Key>) async {
        while let key = await queue.get() {
            do {
                switch try await controller.reconcile(key) {
                case .done: queue.forget(key)
                case .requeueAfter(let delay):
                    queue.forget(key)
                    queue.addAfter(key, delay)
                }
            } catch is CancellationError {
                queue.done(key)
                return
            } catch {
                logger.warning("reconcile failed", metadata: ["key": "\(key)", "error": "\(error)"])
                queue.addRateLimited(key)
            }
            queue.done(key)
        }
    }
}
