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

/// A service that tells which of several of its type it is, for messages about running services (a slow
/// shutdown names `ControllerRunner(replicaset)`, not one of twelve `ControllerRunner`s).
public protocol NamedService: Service {
    var serviceName: String { get }
}

/// Runs a controller as a service: waits for its caches, then `workers` loops of get → reconcile → forget or
/// addRateLimited → done, until graceful shutdown.
public struct ControllerRunner<C: Controller>: NamedService {
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

    public var serviceName: String { "ControllerRunner(\(controller.name))" }

    /// Graceful shutdown cancels the reconciles under way too, as kube-controller-manager's ending context does:
    /// they are level-triggered, so one cut short is redone from the cluster's state on the next start, and a
    /// ReplicaSet creating a batch of 500 pods under load held the server's shutdown for five seconds.
    public func run() async throws {
        let queue = controller.queue
        let running = Task {
            for informer in controller.informers { await informer.waitForSync() }
            await withDiscardingTaskGroup { group in
                group.addTask { await queue.runTimers() }
                for _ in 0..<workers {
                    group.addTask { await work(queue) }
                }
            }
        }
        let stop: @Sendable () -> Void = {
            queue.shutDown()
            running.cancel()
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler { await running.value } onCancel: { stop() }
        } onGracefulShutdown: {
            stop()
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
