import ServiceLifecycle
import TugAPI
import TugAPIMachinery
import TugStorage

/// Runs a pass over all namespaces at start and after every change under the namespaces (and any extra) key
/// prefixes, until shutdown.
///
/// `pass` returns true when work is still pending (a namespace being emptied): the loop then re-checks shortly
/// instead of waiting for the next change.
enum NamespaceLoop {
    static func run(_ store: ObjectStore, alsoWatching extra: [String] = [], pass: ([JSONValue]) async -> Bool) async {
        guard let nsDef = store.definition(group: "", resource: "namespaces") else { return }
        let prefix = StorageKeys.prefix(nsDef, namespace: nil)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Subscribe before reading, so a change between the read and the wait is not missed.
            let revision = store.backend.currentRevision
            let streams = ([prefix] + extra).compactMap { try? store.backend.watch(prefix: $0, after: revision, bufferLimit: 16) }
            let namespaces = store.backend.list(prefix: prefix).items.compactMap { try? store.decode($0) }
            let pending = await pass(namespaces)
            if pending || streams.count < extra.count + 1 {
                streams.forEach { $0.cancel() }
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            await WatchStreams.firstChange(streams)
        }
    }
}
