import Synchronization

/// A bounded stream of storage events for one watcher. A watcher that falls `bufferLimit` events or
/// `byteLimit` bytes of values behind is ended with `.tooSlow` rather than buffering without bound; it can rewatch
/// from its last revision (or get 410 and relist).
public struct WatchStream: Sendable, AsyncSequence {
    public enum Element: Sendable {
        case event(StorageEvent)
        /// Every event up to this revision has been delivered (a progress notification, turned into BOOKMARKs).
        case progress(Int64)
        /// The last element of a stream the store ended because its reader fell too far behind.
        case tooSlow
    }

    let stream: AsyncStream<Element>
    let budget: WatchBudget
    let onCancel: @Sendable () -> Void

    public func makeAsyncIterator() -> Iterator { Iterator(base: stream.makeAsyncIterator(), budget: budget) }

    /// Unregisters the watcher and ends the stream.
    public func cancel() { onCancel() }

    /// Runs `handler` once when the store ends this stream for falling behind (at once if it already has): the
    /// reader may be blocked elsewhere (on a client's socket) and not see the end of the stream.
    public func onTooSlow(_ handler: @escaping @Sendable () -> Void) { budget.onOverflow(handler) }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncStream<Element>.Iterator
        let budget: WatchBudget
        var ended = false

        public mutating func next() async -> Element? {
            guard !ended else { return nil }
            if let element = await base.next() {
                if case .event(let event) = element { budget.release(event) }
                return element
            }
            // The stream's buffer was full when the store ended it, so the marker is added here, not queued.
            ended = true
            return budget.overflowed ? .tooSlow : nil
        }
    }
}

/// What one watcher's queue holds, in bytes of stored values, and whether the store ended it for falling behind.
final class WatchBudget: Sendable {
    let byteLimit: Int
    private let queued = Atomic<Int>(0)
    private let overflow = Mutex<(ended: Bool, handler: (@Sendable () -> Void)?)>((false, nil))

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    /// Counts an event about to be queued; false when the queue would then exceed its byte limit.
    func reserve(_ event: StorageEvent) -> Bool {
        let size = event.object.value.count
        return queued.add(size, ordering: .relaxed).newValue <= byteLimit
    }

    func release(_ event: StorageEvent) {
        queued.subtract(event.object.value.count, ordering: .relaxed)
    }

    /// Records the overflow and runs the handler, if one is set, outside the lock.
    func markOverflowed() {
        let handler = overflow.withLock { state -> (@Sendable () -> Void)? in
            state.ended = true
            defer { state.handler = nil }
            return state.handler
        }
        handler?()
    }

    func onOverflow(_ handler: @escaping @Sendable () -> Void) {
        let now = overflow.withLock { state -> Bool in
            if state.ended { return true }
            state.handler = handler
            return false
        }
        if now { handler() }
    }

    var overflowed: Bool { overflow.withLock { $0.ended } }
}
