import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import TugAPIMachinery

/// Pulls images over the OCI distribution protocol: manifests (an index or Docker manifest list resolves to this
/// machine's platform), then config and layers, each streamed to disk and checked against its digest before it
/// enters the store. Anonymous bearer-token auth (the `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
/// challenge, as Docker Hub and most registries use) is handled; registries on localhost speak plain HTTP.
public final class RegistryClient: Sendable {
    let http: HTTPClient
    let store: ImageStore
    /// Bearer tokens by registry and repository.
    private let tokens = Mutex<[String: String]>([:])

    public static let manifestTypes = [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json",
    ]

    public init(store: ImageStore) {
        self.store = store
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 10, allowCycles: false))
        configuration.timeout = .init(connect: .seconds(15), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Docker Hub's API host; localhost registries are reached over HTTP.
    static func base(_ ref: ImageReference) -> String {
        let host = ref.registry == "docker.io" ? "registry-1.docker.io" : ref.registry
        let local = host.hasPrefix("localhost") || host.hasPrefix("127.") || host.hasPrefix("[::1]")
        return (local ? "http://" : "https://") + host
    }

    /// Pulls `reference` into the store and names it; returns the manifest digest.
    @discardableResult
    public func pull(_ reference: String) async throws -> Digest {
        try await ImageStoreLock(root: store.blobs.root).shared { try await fetch(reference) }
    }

    func fetch(_ reference: String) async throws -> Digest {
        let ref = try ImageReference(parsing: reference)
        let base = Self.base(ref)
        var (bytes, mediaType) = try await fetchManifest(ref, base: base, tagOrDigest: ref.digest?.description ?? ref.tag ?? "latest")
        if let expected = ref.digest, Digest(of: bytes) != expected {
            throw Failure(description: "\(reference): the registry's manifest does not match the digest asked for")
        }
        var document = try JSONParser.parseValue(bytes)
        if document["manifests"].arrayValue != nil || mediaType.contains("index") || mediaType.contains("list") {
            let arch = BuiltInBusybox.hostArchitecture
            guard let entry = document["manifests"].arrayValue?.first(where: {
                $0["platform"]["os"].stringValue == "linux" && $0["platform"]["architecture"].stringValue == arch
            }), let digest = entry["digest"].stringValue else {
                throw Failure(description: "\(reference) has no image for linux/\(arch)")
            }
            (bytes, mediaType) = try await fetchManifest(ref, base: base, tagOrDigest: digest)
            document = try JSONParser.parseValue(bytes)
            guard Digest(of: bytes).description == digest else { throw Failure(description: "manifest \(digest) does not match its digest") }
        }
        guard let config = document["config"]["digest"].stringValue.flatMap(Digest.init) else {
            throw Failure(description: "\(reference): unsupported manifest (\(mediaType.isEmpty ? "no media type" : mediaType))")
        }
        for blob in [config] + (document["layers"].arrayValue ?? []).compactMap({ $0["digest"].stringValue.flatMap(Digest.init) }) {
            try await fetchBlob(ref, base: base, digest: blob)
        }
        let manifest = try store.blobs.put(bytes)
        try store.tag(reference, manifest: manifest, origin: "registry")
        return manifest
    }

    func fetchManifest(_ ref: ImageReference, base: String, tagOrDigest: String) async throws -> ([UInt8], String) {
        let response = try await get(ref, url: "\(base)/v2/\(ref.repository)/manifests/\(tagOrDigest)",
                                     accept: Self.manifestTypes.joined(separator: ", "))
        let body = try await response.body.collect(upTo: 8 << 20)
        guard response.status == .ok else {
            throw Failure(description: "\(ref): manifest \(tagOrDigest): HTTP \(response.status.code)\(Self.errorDetail(body))")
        }
        return (Array(body.readableBytesView), response.headers.first(name: "Content-Type") ?? "")
    }

    /// Downloads a blob to a temporary file and stores it if its content matches `digest`.
    func fetchBlob(_ ref: ImageReference, base: String, digest: Digest) async throws {
        if store.blobs.contains(digest) { return }
        let response = try await get(ref, url: "\(base)/v2/\(ref.repository)/blobs/\(digest)", accept: "*/*")
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw Failure(description: "\(ref): blob \(digest): HTTP \(response.status.code)\(Self.errorDetail(body))")
        }
        let temporary = "\(store.blobs.root)/blobs/.download-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let file = FileHandle(forWritingAtPath: temporary) else {
            throw Failure(description: "cannot create \(temporary)")
        }
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        do {
            for try await chunk in response.body {
                try file.write(contentsOf: Data(chunk.readableBytesView))
            }
            try file.close()
        } catch {
            try? file.close()
            throw Failure(description: "\(ref): blob \(digest): \(error)")
        }
        try store.blobs.putFile(temporary, expected: digest)
    }

    /// A GET with the repository's bearer token, answering a Bearer challenge once by fetching a token.
    func get(_ ref: ImageReference, url: String, accept: String) async throws -> HTTPClientResponse {
        let key = "\(ref.registry)/\(ref.repository)"
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: accept)
        if let token = tokens.withLock({ $0[key] }) { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await http.execute(request, timeout: .seconds(300))
        guard response.status == .unauthorized, let challenge = response.headers.first(name: "WWW-Authenticate") else { return response }
        _ = try? await response.body.collect(upTo: 1 << 20)
        let token = try await fetchToken(challenge: challenge, ref: ref)
        tokens.withLock { $0[key] = token }
        request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        return try await http.execute(request, timeout: .seconds(300))
    }

    /// `Bearer realm="…",service="…",scope="…"` → GET realm?service=…&scope=… → `{"token": …}` or `{"access_token": …}`.
    func fetchToken(challenge: String, ref: ImageReference) async throws -> String {
        let parameters = Self.parseChallenge(challenge)
        guard challenge.lowercased().hasPrefix("bearer"), let realm = parameters["realm"] else {
            throw Failure(description: "\(ref.registry) asks for credentials (\(challenge)); only anonymous pulls are supported")
        }
        var query: [String] = []
        if let service = parameters["service"] { query.append("service=\(Self.escape(service))") }
        query.append("scope=\(Self.escape(parameters["scope"] ?? "repository:\(ref.repository):pull"))")
        let response = try await http.execute(HTTPClientRequest(url: realm + (realm.contains("?") ? "&" : "?") + query.joined(separator: "&")),
                                              timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        let document = (try? JSONParser.parseValue(Array(body.readableBytesView))) ?? .null
        guard response.status == .ok, let token = document["token"].stringValue ?? document["access_token"].stringValue else {
            throw Failure(description: "token from \(realm): HTTP \(response.status.code)")
        }
        return token
    }

    static func parseChallenge(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        let body = header.drop { $0 != " " }
        var rest = Substring(body)
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: " ,"))
            var value = rest[rest.index(after: equals)...]
            if value.first == "\"" {
                value = value.dropFirst()
                let close = value.firstIndex(of: "\"") ?? value.endIndex
                result[key] = String(value[..<close])
                rest = close < value.endIndex ? value[value.index(after: close)...] : ""
            } else {
                let end = value.firstIndex(of: ",") ?? value.endIndex
                result[key] = String(value[..<end])
                rest = value[end...]
            }
        }
        return result
    }

    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// The registry's `{"errors":[{"code","message"}]}` body, as ": CODE message".
    static func errorDetail(_ body: ByteBuffer) -> String {
        guard let document = try? JSONParser.parseValue(Array(body.readableBytesView)), let first = document["errors"][0] as JSONValue?,
              let code = first["code"].stringValue else { return "" }
        return ": \(code) \(first["message"].stringValue ?? "")"
    }
}
