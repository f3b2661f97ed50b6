public import ServiceLifecycle
public import TugStorage

/// Waiting on several store watches at once.
public enum WatchStreams {
    /// Returns when any stream yields or ends (or on graceful shutdown), then closes them all.
    public static func firstChange(_ streams: [WatchStream]) async {
        await withTaskGroup(of: Void.self) { group in
            for stream in streams {
                group.addTask {
                    for await _ in stream.cancelOnGracefulShutdown() { break }
                }
            }
            await group.next()
            streams.forEach { $0.cancel() }
            group.cancelAll()
        }
    }
}
