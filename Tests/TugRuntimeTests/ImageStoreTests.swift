import Foundation
import Testing
import TugAPIMachinery
import TugOS
@testable import TugRuntime

func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tug-images-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct DigestAndBlobTests {
    @Test func digests() throws {
        let d = Digest(of: Array("hello".utf8))
        #expect(d.description == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(Digest(d.description) == d)
        #expect(Digest("sha256:XYZ") == nil && Digest("md5:" + d.hex) == nil)
    }

    @Test func blobsAreContentAddressedAndVerified() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try BlobStore(root: dir)
        let digest = try store.put(Array("layer".utf8))
        #expect(try store.get(digest) == Array("layer".utf8))
        #expect(try store.put(Array("layer".utf8)) == digest)
        #expect(throws: BlobStore.Failure.self) { try store.put(Array("other".utf8), expected: digest) }
        #expect(store.list() == [digest])
        try store.delete(digest)
        #expect(!store.contains(digest))
    }
}

@Suite struct ImageReferenceTests {
    @Test(arguments: [
        ("busybox", "docker.io/library/busybox:latest"), ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("docker.io/library/busybox", "docker.io/library/busybox:latest"), ("nginx/unit:1", "docker.io/nginx/unit:1"),
        ("localhost:5000/app", "localhost:5000/app:latest"), ("registry.example.com:443/a/b:v2", "registry.example.com:443/a/b:v2"),
    ])
    func normalises(_ input: String, _ expected: String) throws {
        #expect(try ImageReference(parsing: input).description == expected)
    }

    @Test(arguments: ["", "Busybox", "busybox:", "a//b", "busybox@sha256:12"])
    func rejects(_ input: String) {
        #expect(throws: ImageReference.Invalid.self) { try ImageReference(parsing: input) }
    }
}

@Suite struct TarWriterTests {
    @Test func systemTarReadsWhatWeWrite() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tar = TarWriter()
        tar.directory("bin")
        tar.file("bin/hello", contents: Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        tar.symlink("bin/hi", target: "hello")
        let longPath = "deep/" + String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60)
        tar.directory("deep/" + String(repeating: "d", count: 90))
        tar.file(longPath, contents: [1, 2, 3])
        let archive = "\(dir)/layer.tar"
        try Data(tar.finish()).write(to: URL(fileURLWithPath: archive))
        let runner = ProcessCommandRunner()
        try await runner.output(Command(["mkdir", "-p", "\(dir)/out"]))
        try await runner.output(Command(["tar", "-xf", archive, "-C", "\(dir)/out"]))
        #expect(FileManager.default.contents(atPath: "\(dir)/out/bin/hello") == Data("#!/bin/sh\necho hi\n".utf8))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/out/bin/hi") == "hello")
        #expect(FileManager.default.contents(atPath: "\(dir)/out/\(longPath)") == Data([1, 2, 3]))
        let mode = try FileManager.default.attributesOfItem(atPath: "\(dir)/out/bin/hello")[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }
}

@Suite struct BuiltInBusyboxTests {
    @Test func busyboxImageIsStoredUnderEveryNameAndIsDeterministic() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/busybox") else {
            Issue.record("/usr/bin/busybox is missing: install busybox-static (make deps)")
            return
        }
        let a = try temporaryDirectory(), b = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let first = try await BuiltInBusybox.ensure(in: try ImageStore(root: a))
        let second = try await BuiltInBusybox.ensure(in: try ImageStore(root: b))
        #expect(first == second, "the same host binary gives the same image digest")
        let store = try ImageStore(root: a)
        for name in ["busybox", "busybox:latest", "docker.io/library/busybox"] {
            #expect(try store.resolve(name) == first)
        }
        #expect(try store.list().map(\.reference) == ["docker.io/library/busybox:latest"])
        let manifest = try JSONParser.parseValue(try store.blobs.get(first))
        let layer = try #require(manifest["layers"][0]["digest"].stringValue.flatMap(Digest.init))
        let config = try JSONParser.parseValue(try store.blobs.get(try #require(manifest["config"]["digest"].stringValue.flatMap(Digest.init))))
        #expect(config["rootfs"]["diff_ids"] == [.string(layer.description)])
        #expect(config["config"]["Cmd"] == ["sh"])
        let listing = try await ProcessCommandRunner().output(Command(["tar", "-tvf", store.blobs.path(layer)]))
        #expect(listing.stdoutText.contains("bin/sh -> busybox"))
        #expect(try store.untag("busybox"))
        #expect(try store.resolve("busybox") == nil)
    }
}
