import Foundation
import TugAPIMachinery
import TugOS

/// `tug images import`: loads a `docker save` archive (manifest.json with RepoTags, config and layer tars) or an
/// OCI image-layout archive (index.json, blobs/sha256), gzip-compressed or not. Every blob is hashed on the way in
/// and checked against its name; multi-platform indexes contribute the image for this machine's platform.
public struct ImageImporter: Sendable {
    let store: ImageStore
    let runner: any CommandRunner

    public init(store: ImageStore, runner: any CommandRunner = ProcessCommandRunner()) {
        self.store = store
        self.runner = runner
    }

    public struct Imported: Sendable, Hashable {
        public var reference: String?
        public var manifest: Digest
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public func importArchive(_ archive: String) async throws -> [Imported] {
        try await ImageStoreLock(root: store.blobs.root).shared { try await load(archive) }
    }

    func load(_ archive: String) async throws -> [Imported] {
        guard FileManager.default.fileExists(atPath: archive) else { throw Invalid(description: "\(archive): no such file") }
        let work = "\(store.blobs.root)/.import-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // GNU tar recognises gzip/zstd compression of the archive itself when reading a file.
        let result = try await runner.run(Command(["tar", "-x", "-f", archive, "-C", work, "--no-same-owner"], timeout: .seconds(600),
                                                  maxOutputBytes: 64 * 1024))
        guard result.status == 0 else { throw Invalid(description: "\(archive) is not a tar archive: \(result.stderrText.prefix(300))") }
        let repoTags = try dockerManifest(work)
        if FileManager.default.fileExists(atPath: "\(work)/index.json") {
            return try importLayout(work, repoTags: repoTags)
        }
        guard let repoTags else { throw Invalid(description: "\(archive) has neither manifest.json (docker save) nor index.json (OCI layout)") }
        return try importDocker(work, entries: repoTags)
    }

    /// docker save's manifest.json, if present.
    func dockerManifest(_ work: String) throws -> [JSONValue]? {
        guard let data = FileManager.default.contents(atPath: "\(work)/manifest.json") else { return nil }
        return try JSONParser.parseValue([UInt8](data)).arrayValue
    }

    func importLayout(_ work: String, repoTags: [JSONValue]?) throws -> [Imported] {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(work)/blobs/sha256")) ?? [] {
            guard let digest = Digest("sha256:\(name)") else { continue }
            try store.blobs.putFile("\(work)/blobs/sha256/\(name)", expected: digest)
        }
        let index = try JSONParser.parseValue([UInt8](FileManager.default.contents(atPath: "\(work)/index.json") ?? Data()))
        var imported: [Imported] = []
        for (position, entry) in (index["manifests"].arrayValue ?? []).enumerated() {
            guard let digest = entry["digest"].stringValue.flatMap(Digest.init), let manifest = try platformManifest(digest) else { continue }
            var names: [String] = []
            if let name = entry["annotations"]["io.containerd.image.name"].stringValue { names.append(name) }
            if let ref = entry["annotations"]["org.opencontainers.image.ref.name"].stringValue, ref.contains("/") || ref.contains(":") { names.append(ref) }
            if names.isEmpty, let tags = repoTags?[safe: position]?["RepoTags"].arrayValue { names = tags.compactMap(\.stringValue) }
            imported += try tag(names, manifest: manifest)
        }
        return imported
    }

    /// The image manifest to use: the digest itself, or from an index the entry for this machine's platform.
    func platformManifest(_ digest: Digest) throws -> Digest? {
        let document = try JSONParser.parseValue(try store.blobs.get(digest))
        guard let entries = document["manifests"].arrayValue else { return digest }
        let arch = BuiltInBusybox.hostArchitecture
        let match = entries.first { $0["platform"]["os"].stringValue == "linux" && $0["platform"]["architecture"].stringValue == arch }
        guard let chosen = match?["digest"].stringValue.flatMap(Digest.init), store.blobs.contains(chosen) else { return nil }
        return try platformManifest(chosen)
    }

    func importDocker(_ work: String, entries: [JSONValue]) throws -> [Imported] {
        var imported: [Imported] = []
        for entry in entries {
            guard let configFile = entry["Config"].stringValue else { throw Invalid(description: "manifest.json entry without Config") }
            let config = try store.blobs.putFile("\(work)/\(configFile)")
            var layers: [JSONValue] = []
            for layer in entry["Layers"].arrayValue ?? [] {
                guard let file = layer.stringValue else { continue }
                let (digest, size) = try store.blobs.putFile("\(work)/\(file)")
                let compressed = (try? LayerStore.compression(of: store.blobs.path(digest))) == .gzip
                layers.append(["mediaType": .string(ImageStore.layerType + (compressed ? "+gzip" : "")), "digest": .string(digest.description), "size": .int(size)])
            }
            let manifest: JSONValue = [
                "schemaVersion": 2, "mediaType": .string(ImageStore.manifestType),
                "config": ["mediaType": .string(ImageStore.configType), "digest": .string(config.digest.description), "size": .int(config.size)],
                "layers": .array(layers),
            ]
            let digest = try store.blobs.put(JSONWriter.bytes(manifest))
            imported += try tag((entry["RepoTags"].arrayValue ?? []).compactMap(\.stringValue), manifest: digest)
        }
        return imported
    }

    func tag(_ names: [String], manifest: Digest) throws -> [Imported] {
        if names.isEmpty { return [Imported(reference: nil, manifest: manifest)] }
        return try names.map { name in
            try store.tag(name, manifest: manifest, origin: "local")
            return Imported(reference: try ImageReference(parsing: name).description, manifest: manifest)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
