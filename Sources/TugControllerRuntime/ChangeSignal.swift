/// "Something changed; rebuild from the caches": for components that recompute one whole view (proxy rules, the
/// DNS zone, ingress routes) rather than reconcile keys. Any number of `notify` calls between two rebuilds make one
/// more rebuild, so a burst of informer events costs one pass.
public struct ChangeSignal: Sendable {
    public let changes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (changes, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func notify() { continuation.yield() }

    /// Notifies on every event of each informer.
    public func watch(_ informers: [Informer]) {
        for informer in informers { informer.addHandler { [self] _ in notify() } }
    }
}
