/// kube-controller-manager's slowStartBatch: run `count` calls in batches of 1, 2, 4… and stop after the first batch
/// with a failure, so a request the API rejects (quota, invalid template) fails once instead of `count` times.
public enum SlowStart {
    /// Returns how many calls succeeded and the first error.
    public static func run(_ count: Int, initialBatch: Int = 1, _ call: @escaping @Sendable () async throws -> Void) async -> (Int, (any Error)?) {
        var remaining = count, batch = min(initialBatch, count), succeeded = 0
        while batch > 0 {
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for _ in 0..<batch {
                    group.addTask {
                        do { try await call(); return nil } catch { return error }
                    }
                }
                var errors: [any Error] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            succeeded += batch - errors.count
            if let first = errors.first { return (succeeded, first) }
            remaining -= batch
            batch = min(2 * batch, remaining)
        }
        return (succeeded, nil)
    }
}
