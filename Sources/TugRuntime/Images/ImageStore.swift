import Foundation
import TugAPIMachinery

/// Images on this node: an OCI image layout (`blobs/sha256/…` plus `index.json` naming each manifest with
/// `org.opencontainers.image.ref.name`).
public final class ImageStore: Sendable {
    public static let manifestType = "application/vnd.oci.image.manifest.v1+json"
    public static let configType = "application/vnd.oci.image.config.v1+json"
    public static let layerType = "application/vnd.oci.image.layer.v1.tar"
    static let refAnnotation = "org.opencontainers.image.ref.name"
    /// `registry` for pulled images; anything else (built in, imported) has no registry to re-check.
    static let originAnnotation = "io.tugboat.image.origin"

    public let blobs: BlobStore
    let indexPath: String

    public init(root: String) throws {
        blobs = try BlobStore(root: root)
        indexPath = "\(root)/index.json"
        if !FileManager.default.fileExists(atPath: indexPath) {
            try write(index: ["schemaVersion": 2, "manifests": []])
        }
        try Data("{\"imageLayoutVersion\":\"1.0.0\"}".utf8).write(to: URL(fileURLWithPath: "\(root)/oci-layout"), options: .atomic)
    }

    public struct Image: Sendable, Hashable {
        public var reference: String
        public var manifest: Digest
        public var size: Int64
    }

    func readIndex() throws -> JSONValue {
        try JSONParser.parseValue([UInt8](try Data(contentsOf: URL(fileURLWithPath: indexPath))))
    }

    func write(index: JSONValue) throws {
        try Data(JSONWriter.bytes(index)).write(to: URL(fileURLWithPath: indexPath), options: .atomic)
    }

    public func list() throws -> [Image] {
        try (readIndex()["manifests"].arrayValue ?? []).compactMap { entry in
            guard let name = entry["annotations"][Self.refAnnotation].stringValue, let digest = entry["digest"].stringValue.flatMap(Digest.init) else { return nil }
            return Image(reference: name, manifest: digest, size: entry["size"].intValue ?? 0)
        }.sorted { $0.reference < $1.reference }
    }

    /// The manifest a reference names (`busybox`, `docker.io/library/busybox:latest`, or `…@sha256:…`).
    public func resolve(_ reference: String) throws -> Digest? {
        let ref = try ImageReference(parsing: reference)
        if let digest = ref.digest { return blobs.contains(digest) ? digest : nil }
        return try list().first { $0.reference == ref.description }?.manifest
    }

    /// Names a stored manifest; `origin` is `registry` for pulled images, `local` for built or imported ones.
    public func tag(_ reference: String, manifest: Digest, origin: String = "local") throws {
        let name = try ImageReference(parsing: reference).description
        let size = Int64(try blobs.get(manifest).count)
        var index = try readIndex()
        var entries = (index["manifests"].arrayValue ?? []).filter { $0["annotations"][Self.refAnnotation].stringValue != name }
        entries.append(["mediaType": .string(Self.manifestType), "digest": .string(manifest.description), "size": .int(size),
                        "annotations": [Self.refAnnotation: .string(name), Self.originAnnotation: .string(origin)]])
        index["manifests"] = .array(entries)
        try write(index: index)
    }

    /// Whether a name was built or imported here rather than pulled (so `imagePullPolicy: Always` keeps it).
    public func isLocalOnly(_ reference: String) -> Bool {
        guard let name = try? ImageReference(parsing: reference).description, let index = try? readIndex() else { return false }
        let entry = (index["manifests"].arrayValue ?? []).first { $0["annotations"][Self.refAnnotation].stringValue == name }
        return entry != nil && entry?["annotations"][Self.originAnnotation].stringValue != "registry"
    }

    /// Removes a name; returns whether it existed. Blobs are left for garbage collection.
    @discardableResult
    public func untag(_ reference: String) throws -> Bool {
        let name = try ImageReference(parsing: reference).description
        var index = try readIndex()
        let entries = index["manifests"].arrayValue ?? []
        let kept = entries.filter { $0["annotations"][Self.refAnnotation].stringValue != name }
        index["manifests"] = .array(kept)
        try write(index: index)
        return kept.count != entries.count
    }

    /// Manifest, config and layers together, in bytes.
    public func imageSize(_ manifest: Digest) throws -> Int64 {
        let document = try JSONParser.parseValue(try blobs.get(manifest))
        let parts = [document["config"]] + (document["layers"].arrayValue ?? [])
        return Int64(try blobs.get(manifest).count) + parts.reduce(0) { $0 + ($1["size"].intValue ?? 0) }
    }

    /// Stores a single-layer image (config and manifest built here) and returns its manifest digest.
    public func store(layer: [UInt8], config imageConfig: JSONValue, architecture: String) throws -> Digest {
        let layerDigest = try blobs.put(layer)
        var config = imageConfig
        config["architecture"] = .string(architecture)
        config["os"] = "linux"
        config["rootfs"] = ["type": "layers", "diff_ids": [.string(layerDigest.description)]]
        let configBytes = JSONWriter.bytes(config)
        let configDigest = try blobs.put(configBytes)
        let manifest: JSONValue = [
            "schemaVersion": 2, "mediaType": .string(Self.manifestType),
            "config": ["mediaType": .string(Self.configType), "digest": .string(configDigest.description), "size": .int(Int64(configBytes.count))],
            "layers": [["mediaType": .string(Self.layerType), "digest": .string(layerDigest.description), "size": .int(Int64(layer.count))]],
        ]
        return try blobs.put(JSONWriter.bytes(manifest))
    }
}
