extension Duration {
    /// The duration in whole nanoseconds, saturating at Int64's bounds (a duration from a huge `timeoutSeconds`
    /// must never trap).
    public var nanoseconds: Int64 {
        components.seconds.saturatingMultiply(1_000_000_000).saturatingAdd(components.attoseconds / 1_000_000_000)
    }
}
