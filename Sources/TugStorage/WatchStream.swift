/// A bounded stream of storage events for one watcher. A watcher that falls `bufferLimit` events behind is ended
/// with `.tooSlow` rather than buffering without bound; it can rewatch from its last revision.
public struct WatchStream: Sendable, AsyncSequence {
    public enum Element: Sendable {
        case event(StorageEvent)
        /// Every event up to this revision has been delivered (a progress notification, turned into BOOKMARKs).
        case progress(Int64)
        case tooSlow
    }

    let stream: AsyncStream<Element>
    let onCancel: @Sendable () -> Void

    public func makeAsyncIterator() -> AsyncStream<Element>.Iterator { stream.makeAsyncIterator() }

    /// Unregisters the watcher.
    public func cancel() { onCancel() }
}
