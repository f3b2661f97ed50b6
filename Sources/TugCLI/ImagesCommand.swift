import ArgumentParser
import TugRuntime

/// `tug images`: the node's image store (`<data-dir>/images`, an OCI image layout).
struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "Manage the images on this node.",
                                                    subcommands: [ListImages.self, PullImage.self, ImportImages.self, RemoveImage.self], defaultSubcommand: ListImages.self)
}

/// `tug images [list]`: lists images, making sure the built-in busybox is there.
struct ListImages: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the images on this node.")

    @Option(help: "The node's data directory.")
    var dataDir = "/var/lib/tugboat"

    func execute() async throws {
        let store = try ImageStore(root: "\(dataDir)/images")
        try await BuiltInBusybox.ensure(in: store)
        print("REFERENCE".padding(toLength: 48, withPad: " ", startingAt: 0) + "DIGEST".padding(toLength: 21, withPad: " ", startingAt: 0) + "SIZE")
        for image in try store.list() {
            let size = try store.imageSize(image.manifest)
            print(image.reference.padding(toLength: 48, withPad: " ", startingAt: 0)
                  + String(image.manifest.hex.prefix(12)).padding(toLength: 21, withPad: " ", startingAt: 0) + Self.human(size))
        }
    }

    static func human(_ bytes: Int64) -> String {
        bytes >= 1_048_576 ? String(format: "%.1f MiB", Double(bytes) / 1_048_576) : String(format: "%.1f KiB", Double(bytes) / 1024)
    }
}

/// `tug images pull REF…`: fetches images from their registries (OCI distribution protocol).
struct PullImage: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Pull images from a registry.")

    @Option(help: "The node's data directory.")
    var dataDir = "/var/lib/tugboat"

    @Argument(help: "Image references, e.g. docker.io/library/nginx:1.27 or localhost:5000/app@sha256:….")
    var references: [String]

    func execute() async throws {
        let client = RegistryClient(store: try ImageStore(root: "\(dataDir)/images"))
        var failure: (any Error)? = nil
        for reference in references {
            do {
                let digest = try await client.pull(reference)
                print("pulled: \(try ImageReference(parsing: reference)) \(digest)")
            } catch {
                failure = CommandFailure("\(reference): \(error)")
                break
            }
        }
        await client.shutdown()
        if let failure { throw failure }
    }
}

/// `tug images import FILE…`: loads `docker save` or OCI-layout archives.
struct ImportImages: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Load images from docker save or OCI archives.")

    @Option(help: "The node's data directory.")
    var dataDir = "/var/lib/tugboat"

    @Argument(help: "Archives made by `docker save`, `podman save` or `skopeo copy … oci-archive:` (optionally gzipped).")
    var files: [String]

    func execute() async throws {
        let store = try ImageStore(root: "\(dataDir)/images")
        for file in files {
            let imported: [ImageImporter.Imported]
            do { imported = try await ImageImporter(store: store).importArchive(file) } catch { throw CommandFailure("\(file): \(error)") }
            for image in imported {
                print("imported: \(image.reference ?? "<untagged>") \(image.manifest)")
            }
        }
    }
}

/// `tug images rm NAME…`: removes image names, then the blobs and unpacked layers nothing needs any more.
struct RemoveImage: TugSubcommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove images by name.")

    @Option(help: "The node's data directory.")
    var dataDir = "/var/lib/tugboat"

    @Argument(help: "Image references, e.g. busybox or docker.io/library/nginx:1.27.")
    var references: [String]

    func execute() async throws {
        let store = try ImageStore(root: "\(dataDir)/images")
        var missing: [String] = []
        for reference in references {
            if try store.untag(reference) { print("untagged: \(try ImageReference(parsing: reference))") } else { missing.append(reference) }
        }
        let collector = try ImageGarbageCollector(imagesRoot: "\(dataDir)/images", store: store)
        let collected = try await ImageStoreLock(root: "\(dataDir)/images").exclusive {
            try collector.collect(inUse: ImageGarbageCollector.manifestsInUse(containerRoot: "\(dataDir)/agent/containers"))
        }
        if !collected.blobs.isEmpty || !collected.layers.isEmpty {
            print("removed \(collected.blobs.count) blobs (\(ListImages.human(collected.bytes))) and \(collected.layers.count) unpacked layers")
        }
        if !missing.isEmpty { throw CommandFailure("no such image: \(missing.joined(separator: ", "))") }
    }
}
