import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Open connections per client address, with a cap: a connection beyond it is closed as soon as it is accepted,
/// before TLS, so no single client can take the server's descriptors (nor the memory each connection's buffers hold).
final class ConnectionCounter: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    /// `limit` 0: no cap.
    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection from `client`; false when that would exceed the cap (and it is not counted).
    func admit(_ client: String) -> Bool {
        open.withLock { counts in
            let current = counts[client] ?? 0
            guard limit == 0 || current < limit else { return false }
            counts[client] = current + 1
            return true
        }
    }

    func release(_ client: String) {
        open.withLock { counts in
            let left = (counts[client] ?? 1) - 1
            counts[client] = left > 0 ? left : nil
        }
    }

    func count(_ client: String) -> Int { open.withLock { $0[client] ?? 0 } }
}

/// Applies a `ConnectionCounter` to every accepted connection.
struct ConnectionCap<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard counter.limit > 0 else { return base.setup(channel: channel, logger: logger) }
        let client = channel.remoteAddress?.ipAddress ?? "unknown"
        guard counter.admit(client) else {
            logger.debug("connection refused: client over its connection cap", metadata: ["client": "\(client)", "cap": "\(counter.limit)"])
            // Set up as usual, then closed at once: a failed setup would end the server's accept loop.
            return base.setup(channel: channel, logger: logger).map { value in
                channel.close(promise: nil)
                return value
            }
        }
        let counter = self.counter
        channel.closeFuture.whenComplete { _ in counter.release(client) }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
