import ServiceLifecycle
import TugAPI
import TugAPIMachinery
import TugStorage

/// Runs a pass over all namespaces at start and after every namespace change, until shutdown.
///
/// `pass` returns true when work is still pending (a namespace being emptied): the loop then re-checks shortly
/// instead of waiting for the next namespace event.
enum NamespaceLoop {
    static func run(_ store: ObjectStore, pass: ([JSONValue]) async -> Bool) async {
        guard let nsDef = store.definition(group: "", resource: "namespaces") else { return }
        let prefix = StorageKeys.prefix(nsDef, namespace: nil)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Subscribe before reading, so a change between the read and the wait is not missed.
            let stream = try? store.backend.watch(prefix: prefix, after: store.backend.currentRevision, bufferLimit: 16)
            let namespaces = store.backend.list(prefix: prefix).items.compactMap { try? store.decode($0) }
            let pending = await pass(namespaces)
            if pending || stream == nil {
                stream?.cancel()
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            if let stream {
                for await _ in stream.cancelOnGracefulShutdown() { break }
                stream.cancel()
            }
        }
    }
}
