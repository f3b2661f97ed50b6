import Foundation
import TugAPIMachinery
import TugOS

/// Removes what no image name and no container needs: blobs outside every kept manifest (its config and layers)
/// and unpacked layers outside the kept layer set. Manifests of images that containers on this node were started
/// from are kept even when their name is gone, so `tug images rm` never pulls the floor from under a container.
public struct ImageGarbageCollector: Sendable {
    let store: ImageStore
    let layers: LayerStore

    public init(store: ImageStore, layers: LayerStore) {
        self.store = store
        self.layers = layers
    }

    public init(imagesRoot: String, store: ImageStore) throws {
        self.store = store
        self.layers = try LayerStore(root: "\(imagesRoot)/layers", blobs: store.blobs, runner: NoCommands())
    }

    public struct Result: Sendable {
        public var blobs: [Digest] = []
        public var layers: [Digest] = []
        public var bytes: Int64 = 0
    }

    /// `inUse`: manifest digests of images that containers still use.
    public func collect(inUse: Set<Digest>) throws -> Result {
        var keepManifests = Set(try store.list().map(\.manifest))
        keepManifests.formUnion(inUse.filter { store.blobs.contains($0) })
        var keepBlobs = keepManifests
        var keepLayers = Set<Digest>()
        for manifest in keepManifests {
            guard let document = try? JSONParser.parseValue(try store.blobs.get(manifest)) else { continue }
            if let config = document["config"]["digest"].stringValue.flatMap(Digest.init) { keepBlobs.insert(config) }
            for layer in document["layers"].arrayValue ?? [] {
                if let digest = layer["digest"].stringValue.flatMap(Digest.init) {
                    keepBlobs.insert(digest)
                    keepLayers.insert(digest)
                }
            }
        }
        var result = Result()
        for blob in store.blobs.list() where !keepBlobs.contains(blob) {
            result.bytes += Int64(store.blobs.size(blob))
            try store.blobs.delete(blob)
            result.blobs.append(blob)
        }
        result.layers = try layers.collect(keeping: keepLayers)
        return result
    }

    /// Manifest digests named by the container records under `containerRoot` (their `imageID`, `repo@sha256:…`).
    public static func manifestsInUse(containerRoot: String) -> Set<Digest> {
        var digests = Set<Digest>()
        for id in (try? FileManager.default.contentsOfDirectory(atPath: containerRoot)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(containerRoot)/\(id)/info.json"),
                  let record = try? JSONParser.parseValue([UInt8](data)), let imageID = record["imageID"].stringValue,
                  let at = imageID.lastIndex(of: "@"), let digest = Digest(String(imageID[imageID.index(after: at)...])) else { continue }
            digests.insert(digest)
        }
        return digests
    }
}

/// A runner for stores that only delete (garbage collection never unpacks).
struct NoCommands: CommandRunner {
    func run(_ command: Command) async throws -> CommandResult {
        throw CommandError(argv: command.argv, kind: .launchFailed, stderrTail: "no commands in this context")
    }
}
