import Foundation
import Synchronization

/// The long-lived responses a server is serving (watches, followed logs, exec and attach sessions), so its shutdown
/// can end them all at once: such a response otherwise waits for its next event, or for a client that already left,
/// and holds the server's graceful shutdown open. Clients reconnect (rewatch from their last version) elsewhere or later.
public final class OpenStreams: Sendable {
    private struct State {
        var cancels: [UUID: @Sendable () -> Void] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers how to end a stream; returns nil (and ends it at once) when the server is already shutting down.
    public func register(_ cancel: @escaping @Sendable () -> Void) -> UUID? {
        let id = UUID()
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.cancels[id] = cancel
            return true
        }
        if !accepted { cancel() }
        return accepted ? id : nil
    }

    public func remove(_ id: UUID) {
        _ = state.withLock { $0.cancels.removeValue(forKey: id) }
    }

    /// Runs `body` as a task that `closeAll` cancels (as does cancelling the caller).
    public func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let id = register { task.cancel() }
        defer { if let id { remove(id) } }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// A stream fed by `produce` in a task of its own, ended by `closeAll`, by the producer returning, or by the
    /// consumer going away. For responses whose writer must not block on a source that may stay silent (a followed
    /// log): the response writes what the stream yields and finishes when it ends.
    public func pipe<Element: Sendable>(_ produce: @escaping @Sendable (AsyncStream<Element>.Continuation) async -> Void) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream()
        let task = Task {
            await produce(continuation)
            continuation.finish()
        }
        let id = register { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            if let id { self?.remove(id) }
        }
        return stream
    }

    public func closeAll() {
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            defer { state.cancels.removeAll() }
            return Array(state.cancels.values)
        }
        cancels.forEach { $0() }
    }
}
