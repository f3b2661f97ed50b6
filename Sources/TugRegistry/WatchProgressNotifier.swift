public import ServiceLifecycle
import TugStorage

/// Periodically sends open watches a progress notification, which watches that allow bookmarks turn into BOOKMARK
/// events: an idle reflector's resourceVersion stays recent, so reconnecting does not fall behind the history.
public struct WatchProgressNotifier: Service {
    let backend: any StorageBackend
    let interval: Duration

    public init(backend: any StorageBackend, interval: Duration = .seconds(60)) {
        self.backend = backend
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // The sleep is cancelled on graceful shutdown, so the server stops at once.
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            backend.notifyProgress()
        }
    }
}
