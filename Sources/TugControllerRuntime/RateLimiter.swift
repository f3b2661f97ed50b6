public import Foundation

/// client-go's default controller rate limiter: the larger of a per-item exponential back-off (5 ms doubling to
/// 1000 s) and an overall token bucket (10 per second, burst 100), so one failing key backs off on its own and a
/// storm of failures cannot exceed the bucket.
public struct RateLimiter<Key: Hashable & Sendable>: Sendable {
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var ratePerSecond: Double
    public var burst: Double
    var failures: [Key: Int] = [:]
    var tokens: Double
    var lastRefill: Date?

    public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000), ratePerSecond: Double = 10, burst: Double = 100) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        tokens = burst
    }

    /// The delay before `item` may be retried; counts one more failure for it.
    public mutating func when(_ item: Key, now: Date) -> Duration {
        let exponent = failures[item, default: 0]
        failures[item] = exponent + 1
        let backoff = exponent >= 40 ? maxDelay : min(maxDelay, baseDelay * (1 << exponent))
        return max(backoff, reserveToken(now: now))
    }

    mutating func reserveToken(now: Date) -> Duration {
        if let last = lastRefill { tokens = min(burst, tokens + max(0, now.timeIntervalSince(last)) * ratePerSecond) }
        lastRefill = now
        tokens -= 1
        return tokens >= 0 ? .zero : .milliseconds(Int64((-tokens / ratePerSecond * 1000).rounded(.up)))
    }

    public mutating func forget(_ item: Key) { failures[item] = nil }

    public func numRequeues(_ item: Key) -> Int { failures[item, default: 0] }
}
