import Foundation
import Synchronization
import TugStorage

/// The watches the API server is serving, so shutdown can end them all at once: a watch otherwise waits for its
/// next event and would hold the server's graceful shutdown open (clients then rewatch from their last version).
final class OpenWatches: Sendable {
    private struct State {
        var streams: [UUID: WatchStream] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Registers a stream; returns nil (and cancels it) when the server is already shutting down.
    func register(_ stream: WatchStream) -> UUID? {
        let id = UUID()
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.streams[id] = stream
            return true
        }
        if !accepted { stream.cancel() }
        return accepted ? id : nil
    }

    func remove(_ id: UUID) {
        _ = state.withLock { $0.streams.removeValue(forKey: id) }
    }

    func closeAll() {
        let streams = state.withLock { state -> [WatchStream] in
            state.closed = true
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
        streams.forEach { $0.cancel() }
    }
}
