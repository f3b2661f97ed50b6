public import Logging
public import ServiceLifecycle
public import TugAPIMachinery
public import TugClient
import Synchronization

/// One informer per resource for the whole process, shared by every controller that asks for it (one watch per
/// resource, as client-go's shared informer factory). Informers asked for after `run` started are started too.
public final class InformerFactory: Service, Sendable {
    let client: RESTClient
    let logger: Logger
    let startAfter: [Gate]
    let readCheck: ReadCheck?
    private let state = Mutex<(informers: [APIResource: Informer], added: AsyncStream<Informer>.Continuation?)>(([:], nil))
    /// Components that read through this factory under an identity of their own, and what they read.
    private let readers = Mutex<[(reader: String, resource: APIResource)]>([])

    /// Whether `reader` (a user name) may list and watch `resource`: nil when it may, else why not.
    public typealias ReadCheck = @Sendable (_ reader: String, _ resource: APIResource) -> String?

    public struct ReadDenied: Error, CustomStringConvertible {
        public let description: String
    }

    /// With `startAfter`, nothing is listed before every gate opens (in `tug server`: once the API server listens
    /// and its RBAC policy is in place, so no reflector starts in its retry back-off). With `readCheck`, components
    /// that share these caches but are not the factory's own identity (`informer(_:readBy:)`) must be allowed to
    /// list and watch what they read, or the factory does not start.
    public init(client: RESTClient, startAfter: [Gate] = [], readCheck: ReadCheck? = nil, logger: Logger) {
        self.client = client
        self.startAfter = startAfter
        self.readCheck = readCheck
        self.logger = logger
    }

    /// The shared informer for `resource`, read by `reader` (a user name), whose own role must allow it.
    public func informer(_ resource: APIResource, readBy reader: String) -> Informer {
        readers.withLock { $0.append((reader, resource)) }
        return informer(resource)
    }

    public func informer(_ resource: APIResource) -> Informer {
        let (informer, notify) = state.withLock { state -> (Informer, AsyncStream<Informer>.Continuation?) in
            if let existing = state.informers[resource] { return (existing, nil) }
            let informer = Informer(resource: resource)
            state.informers[resource] = informer
            return (informer, state.added)
        }
        notify?.yield(informer)
        return informer
    }

    /// Returns once the factory may list (its gates are open): what components that call the API themselves at
    /// start (the garbage collector's discovery) wait for, so they do not start with a 403.
    public func waitUntilStartable() async {
        for gate in startAfter { await gate.wait() }
    }

    public func run() async throws {
        await waitUntilStartable()
        if let readCheck {
            let denied = readers.withLock { $0 }.compactMap { readCheck($0.reader, $0.resource) }
            if !denied.isEmpty { throw ReadDenied(description: Array(Set(denied)).sorted().joined(separator: "; ")) }
        }
        let (added, continuation) = AsyncStream<Informer>.makeStream()
        let initial = state.withLock { state in
            state.added = continuation
            return Array(state.informers.values)
        }
        await withDiscardingTaskGroup { group in
            for informer in initial {
                group.addTask { await informer.run(client: self.client, logger: self.logger) }
            }
            for await informer in added.cancelOnGracefulShutdown() {
                group.addTask { await informer.run(client: self.client, logger: self.logger) }
            }
            continuation.finish()
            group.cancelAll()
        }
    }
}
