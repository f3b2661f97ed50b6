/// Polls `condition` every `interval` until it holds; throws `TimedOut` naming `what` once `timeout` of real time
/// has passed. Tests await conditions with a deadline this way instead of sleeping and hoping.
public func eventually(_ what: String, timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(20),
                       _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        if ContinuousClock.now > deadline { throw TimedOut(what: what) }
        try await Task.sleep(for: interval)
    }
}

/// What `eventually` throws.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String

    public init(what: String) { self.what = what }

    public var description: String { "timed out waiting for \(what)" }
}
