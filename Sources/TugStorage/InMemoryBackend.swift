import Synchronization

/// A store that lives only in memory: for tests and benchmarks of the layers above storage.
public final class InMemoryBackend: MemoryStateBackend {
    public let state: MemoryState
    /// Serialises prepare+commit so concurrent writers never share a revision.
    private let writeLock = Mutex(())

    public init(historyLimit: Int = 50_000, historyByteLimit: Int = 128 << 20, indexedFields: Set<String> = []) {
        state = MemoryState(historyLimit: historyLimit, historyByteLimit: historyByteLimit, indexedFields: indexedFields)
    }

    func apply(_ op: MemoryState.Operation) throws -> StoredObject {
        try writeLock.withLock { _ in
            let write = try state.prepare([op])[0].get()
            state.commit([write])
            return write.event.object
        }
    }

    public func create(key: String, attributes: ObjectAttributes, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject {
        try apply(.create(key: key, attributes: attributes, encode: encode))
    }

    public func update(key: String, expectedRevision: Int64?, attributes: ObjectAttributes, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject {
        try apply(.update(key: key, expectedRevision: expectedRevision, attributes: attributes, encode: encode))
    }

    public func delete(key: String, expectedRevision: Int64?, encode: @escaping @Sendable (Int64) throws -> [UInt8]) async throws -> StoredObject {
        try apply(.delete(key: key, expectedRevision: expectedRevision, encode: encode))
    }

}
