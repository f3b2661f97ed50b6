import TugAPIMachinery

/// An image ready to run: its manifest digest (the image ID), its layers bottom first, and the runtime defaults
/// from its config (`Env`, `Entrypoint`, `Cmd`, `WorkingDir`, `User`).
public struct ResolvedImage: Sendable, Hashable {
    public var reference: String
    public var manifest: Digest
    public var configDigest: Digest
    public var layers: [Digest]
    public var env: [String]
    public var entrypoint: [String]
    public var cmd: [String]
    public var workingDir: String
    public var user: String

    public init(reference: String, manifest: Digest, configDigest: Digest, layers: [Digest], env: [String] = [], entrypoint: [String] = [],
                cmd: [String] = [], workingDir: String = "", user: String = "") {
        self.reference = reference
        self.manifest = manifest
        self.configDigest = configDigest
        self.layers = layers
        self.env = env
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.workingDir = workingDir
        self.user = user
    }

    /// The image ID as the kubelet reports it in `containerStatuses[].imageID`.
    public var imageID: String { "\(ImageReference.repository(of: reference))@\(manifest)" }
}

extension ImageStore {
    /// The stored image a reference names, with its manifest and config read; nil when it is not here.
    public func resolvedImage(_ reference: String) throws -> ResolvedImage? {
        guard let manifest = try resolve(reference) else { return nil }
        let document = try JSONParser.parseValue(try blobs.get(manifest))
        guard let configDigest = document["config"]["digest"].stringValue.flatMap(Digest.init) else {
            throw BlobStore.Failure.io("manifest \(manifest) has no config")
        }
        let layers = (document["layers"].arrayValue ?? []).compactMap { $0["digest"].stringValue.flatMap(Digest.init) }
        let config = try JSONParser.parseValue(try blobs.get(configDigest))["config"]
        func strings(_ value: JSONValue) -> [String] { (value.arrayValue ?? []).compactMap(\.stringValue) }
        return ResolvedImage(
            reference: (try? ImageReference(parsing: reference).description) ?? reference, manifest: manifest, configDigest: configDigest,
            layers: layers, env: strings(config["Env"]), entrypoint: strings(config["Entrypoint"]), cmd: strings(config["Cmd"]),
            workingDir: config["WorkingDir"].stringValue ?? "", user: config["User"].stringValue ?? "")
    }
}
