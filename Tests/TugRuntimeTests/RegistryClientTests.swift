import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
import TugAPIMachinery
@testable import TugRuntime

/// The pull client against a registry in this process that demands an anonymous bearer token, as Docker Hub does,
/// and serves a multi-platform index.
@Suite struct RegistryClientTests {
    struct Fixture {
        var blobs: [String: [UInt8]] = [:]
        var manifests: [String: (bytes: [UInt8], type: String)] = [:]
    }

    static func fixture() -> (Fixture, layer: [UInt8]) {
        var tar = TarWriter()
        tar.file("hello.txt", contents: Array("hi\n".utf8))
        let layer = tar.finish()
        let config = JSONWriter.bytes(["architecture": "amd64", "os": "linux", "config": ["Cmd": ["/hello"]],
                                       "rootfs": ["type": "layers", "diff_ids": [.string(Digest(of: layer).description)]]])
        let manifest = JSONWriter.bytes([
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": ["mediaType": "application/vnd.docker.container.image.v1+json", "digest": .string(Digest(of: config).description), "size": .int(Int64(config.count))],
            "layers": [["mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": .string(Digest(of: layer).description), "size": .int(Int64(layer.count))]],
        ])
        let index = JSONWriter.bytes([
            "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
            "manifests": [
                ["digest": .string(Digest(of: Array("other".utf8)).description), "platform": ["os": "linux", "architecture": "s390x"]],
                ["digest": .string(Digest(of: manifest).description), "platform": ["os": "linux", "architecture": .string(BuiltInBusybox.hostArchitecture)]],
            ],
        ])
        var f = Fixture()
        f.blobs[Digest(of: layer).description] = layer
        f.blobs[Digest(of: config).description] = config
        f.manifests["1.0"] = (index, "application/vnd.docker.distribution.manifest.list.v2+json")
        f.manifests[Digest(of: manifest).description] = (manifest, "application/vnd.docker.distribution.manifest.v2+json")
        return (f, layer)
    }

    @Test func pullsWithABearerTokenAndPicksThePlatform() async throws {
        let (fixture, layer) = Self.fixture()
        let tokenRequests = Mutex(0)
        let router = Router()
        router.get("/token") { request, _ -> Response in
            tokenRequests.withLock { $0 += 1 }
            #expect(request.uri.queryParameters.get("scope") == "repository:team/app:pull")
            #expect(request.uri.queryParameters.get("service") == "fake-registry")
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"token":"t0k3n"}"#)))
        }
        router.get("/v2/team/app/{kind}/{ref}") { request, context -> Response in
            guard request.headers[.authorization] == "Bearer t0k3n" else {
                let port = request.head.authority?.split(separator: ":").last.map(String.init) ?? ""
                return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"http://127.0.0.1:\(port)/token\",service=\"fake-registry\",scope=\"repository:team/app:pull\""])
            }
            let ref = context.parameters.get("ref") ?? ""
            if context.parameters.get("kind") == "manifests", let manifest = fixture.manifests[ref] {
                return Response(status: .ok, headers: [.contentType: manifest.type], body: .init(byteBuffer: ByteBuffer(bytes: manifest.bytes)))
            }
            if context.parameters.get("kind") == "blobs", let blob = fixture.blobs[ref] {
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: blob)))
            }
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: #"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"nope"}]}"#)))
        }
        let (portStream, port) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.yield(channel.localAddress?.port ?? 0) })
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ImageStore(root: dir)
        let client = RegistryClient(store: store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var iterator = portStream.makeAsyncIterator()
            let listening = await iterator.next() ?? 0
            let digest = try await client.pull("127.0.0.1:\(listening)/team/app:1.0")
            let image = try #require(try store.resolvedImage("127.0.0.1:\(listening)/team/app:1.0"))
            #expect(image.manifest == digest)
            #expect(image.layers == [Digest(of: layer)])
            #expect(image.cmd == ["/hello"])
            #expect(!store.isLocalOnly("127.0.0.1:\(listening)/team/app:1.0"), "pulled images are re-checked under imagePullPolicy Always")
            #expect(tokenRequests.withLock { $0 } == 1, "the token is fetched once and reused for every blob")
            await #expect(throws: RegistryClient.Failure.self) { try await client.pull("127.0.0.1:\(listening)/team/app:2.0") }
            group.cancelAll()
        }
        await client.shutdown()
    }

    @Test func parsesBearerChallenges() {
        let parsed = RegistryClient.parseChallenge(#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#)
        #expect(parsed == ["realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"])
        #expect(RegistryClient.base(try! ImageReference(parsing: "busybox")) == "https://registry-1.docker.io")
        #expect(RegistryClient.base(try! ImageReference(parsing: "localhost:5000/app")) == "http://localhost:5000")
    }
}
