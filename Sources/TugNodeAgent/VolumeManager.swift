import Foundation
import Synchronization
import TugAPIMachinery
import TugOS

/// A volume ready to bind-mount into containers.
struct PreparedVolume: Sendable, Hashable {
    var path: String
    var readOnly: Bool
}

/// Prepares a pod's volumes under `<pods>/<uid>/volumes/<type>/<name>`: emptyDir (a directory, or a tmpfs for
/// medium Memory), hostPath (with its type checks), and configMap, secret, downwardAPI and projected volumes
/// written atomically (secrets and projected tokens on tmpfs, never on disk), and persistentVolumeClaim volumes
/// as node-local directories under `<claims>/<namespace>/<claim>-<uid>` that outlive the pod (local-path storage,
/// as k3s ships by default). Re-running refreshes their contents.
struct VolumeManager: Sendable {
    let podsRoot: String
    let cluster: any ClusterReader
    /// Projected service-account tokens, reused until 80 % of their lifetime has passed (as the kubelet does).
    let tokens = TokenCache()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func podDirectory(_ uid: String) -> String { "\(podsRoot)/\(uid)" }

    /// Where claims' data lives on this node: beside the pods, not inside any pod's directory.
    var claimsRoot: String { (podsRoot as NSString).deletingLastPathComponent + "/claims" }

    func prepare(pod: JSONValue, hostIP: String, podIP: String?) async throws -> [String: PreparedVolume] {
        let uid = pod["metadata"]["uid"].stringValue ?? ""
        let namespace = pod["metadata"]["namespace"].stringValue ?? "default"
        var prepared: [String: PreparedVolume] = [:]
        let environment = ContainerEnvironment(pod: pod, lookup: { _, _ in nil }, hostIP: hostIP, podIP: podIP)
        let ownership = VolumeOwnership(pod: pod)
        try Self.privateDirectory("\(podDirectory(uid))/volumes", parent: podDirectory(uid))
        for volume in pod["spec"]["volumes"].arrayValue ?? [] {
            let name = volume["name"].stringValue ?? ""
            let base = "\(podDirectory(uid))/volumes"
            if volume["emptyDir"] != .null {
                let path = "\(base)/empty-dir/\(name)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
                if volume["emptyDir"]["medium"].stringValue == "Memory", !Mounts.isMountPoint(path) {
                    let limit = volume["emptyDir"]["sizeLimit"].stringValue.flatMap(Quantity.parse).map(\.value)
                    try Mounts.tmpfs(at: path, sizeLimit: limit)
                }
                prepared[name] = PreparedVolume(path: path, readOnly: false)
            } else if let claim = volume["persistentVolumeClaim"]["claimName"].stringValue {
                guard let claimUID = try await cluster.claimUID(namespace: namespace, name: claim) else {
                    throw Failure(description: "persistentvolumeclaim \"\(claim)\" not found")
                }
                let path = "\(claimsRoot)/\(namespace)/\(claim)-\(claimUID)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
                prepared[name] = PreparedVolume(path: path, readOnly: volume["persistentVolumeClaim"]["readOnly"].boolValue ?? false)
            } else if volume["hostPath"] != .null {
                prepared[name] = PreparedVolume(path: try hostPath(volume["hostPath"]), readOnly: false)
            } else if volume["configMap"] != .null || volume["secret"] != .null || volume["downwardAPI"] != .null || volume["projected"] != .null {
                let kind = volume["configMap"] != .null ? "configmap" : volume["secret"] != .null ? "secret" : volume["downwardAPI"] != .null ? "downward-api" : "projected"
                let path = "\(base)/\(kind)/\(name)"
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
                if kind == "secret" || kind == "projected", !Mounts.isMountPoint(path) {
                    let root = ownership.tmpfs
                    try Mounts.tmpfs(at: path, sizeLimit: nil, mode: root.mode, uid: root.uid, gid: root.gid)
                }
                let files = try await contents(of: volume, namespace: namespace, pod: pod, environment: environment, ownership: ownership)
                try AtomicWriter(directory: path, owner: ownership.fileOwner).write(files)
                prepared[name] = PreparedVolume(path: path, readOnly: true)
            } else {
                throw Failure(description: "volume \"\(name)\": unsupported volume type (\(volume.objectValue?.keys.filter { $0 != "name" }.sorted().joined(separator: ", ") ?? ""))")
            }
        }
        return prepared
    }

    /// hostPath `type` semantics: `DirectoryOrCreate`/`FileOrCreate` create, the others must already be that kind.
    func hostPath(_ source: JSONValue) throws -> String {
        let path = source["path"].stringValue ?? ""
        let type = source["type"].stringValue ?? ""
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDirectory)
        switch type {
        case "DirectoryOrCreate":
            if !exists { try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]) }
        case "FileOrCreate":
            if !exists {
                try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
            }
        case "Directory":
            guard exists, isDirectory.boolValue else { throw Failure(description: "hostPath type check failed: \(path) is not a directory") }
        case "File":
            guard exists, !isDirectory.boolValue else { throw Failure(description: "hostPath type check failed: \(path) is not a file") }
        case "Socket", "CharDevice", "BlockDevice":
            guard exists else { throw Failure(description: "hostPath type check failed: \(path) does not exist") }
        default:
            break
        }
        return path
    }

    typealias Files = [String: (bytes: [UInt8], mode: Int)]

    func contents(of volume: JSONValue, namespace: String, pod: JSONValue, environment: ContainerEnvironment,
                  ownership: VolumeOwnership = VolumeOwnership()) async throws -> Files {
        try await unowned(volume, namespace: namespace, pod: pod, environment: environment, ownership: ownership)
            .mapValues { ($0.bytes, ownership.fileMode(requested: $0.mode)) }
    }

    func unowned(_ volume: JSONValue, namespace: String, pod: JSONValue, environment: ContainerEnvironment, ownership: VolumeOwnership) async throws -> Files {
        if volume["configMap"] != .null { return try await keyed(volume["configMap"], kind: "ConfigMap", namespace: namespace, defaultMode: volume["configMap"]["defaultMode"].intValue) }
        if volume["secret"] != .null {
            var source = volume["secret"]
            source["name"] = source["secretName"]
            return try await keyed(source, kind: "Secret", namespace: namespace, defaultMode: volume["secret"]["defaultMode"].intValue)
        }
        if volume["downwardAPI"] != .null { return try downward(volume["downwardAPI"]["items"], environment: environment, defaultMode: volume["downwardAPI"]["defaultMode"].intValue) }
        var files: Files = [:]
        let defaultMode = volume["projected"]["defaultMode"].intValue
        for source in volume["projected"]["sources"].arrayValue ?? [] {
            if source["configMap"] != .null { files.merge(try await keyed(source["configMap"], kind: "ConfigMap", namespace: namespace, defaultMode: defaultMode)) { $1 } }
            if source["secret"] != .null { files.merge(try await keyed(source["secret"], kind: "Secret", namespace: namespace, defaultMode: defaultMode)) { $1 } }
            if source["downwardAPI"] != .null { files.merge(try downward(source["downwardAPI"]["items"], environment: environment, defaultMode: defaultMode)) { $1 } }
            if source["serviceAccountToken"] != .null {
                let token = source["serviceAccountToken"]
                let lifetime = token["expirationSeconds"].intValue ?? 3600
                let account = pod["spec"]["serviceAccountName"].stringValue ?? "default"
                let key = "\(pod["metadata"]["uid"].stringValue ?? "")/\(account)/\(token["audience"].stringValue ?? "")/\(lifetime)"
                let jwt: String
                if let cached = tokens.get(key) {
                    jwt = cached
                } else {
                    jwt = try await cluster.serviceAccountToken(
                        namespace: namespace, name: account, audience: token["audience"].stringValue, expirationSeconds: lifetime,
                        podName: pod["metadata"]["name"].stringValue ?? "", podUID: pod["metadata"]["uid"].stringValue ?? "")
                    tokens.put(key, jwt, refreshAfter: .seconds(lifetime * 8 / 10))
                }
                files[token["path"].stringValue ?? "token"] = (Array(jwt.utf8), ownership.tokenMode(requested: Int(defaultMode ?? 0o644)))
            }
        }
        return files
    }

    /// ConfigMap/Secret data as files: every key, or only `items` (key → path, mode); a missing object or key is
    /// an error unless `optional`.
    func keyed(_ source: JSONValue, kind: String, namespace: String, defaultMode: Int64?) async throws -> Files {
        let name = source["name"].stringValue ?? ""
        let mode = Int(defaultMode ?? 0o644)
        guard let data = try await cluster.data(kind: kind, namespace: namespace, name: name) else {
            if source["optional"].boolValue == true { return [:] }
            throw Failure(description: "\(kind.lowercased()) \"\(name)\" not found")
        }
        guard let items = source["items"].arrayValue else {
            return data.mapValues { ($0, mode) }
        }
        var files: Files = [:]
        for item in items {
            let key = item["key"].stringValue ?? ""
            guard let bytes = data[key] else {
                if source["optional"].boolValue == true { continue }
                throw Failure(description: "configmap references non-existent config key: \(key)")
            }
            files[item["path"].stringValue ?? key] = (bytes, Int(item["mode"].intValue ?? Int64(mode)))
        }
        return files
    }

    func downward(_ items: JSONValue, environment: ContainerEnvironment, defaultMode: Int64?) throws -> Files {
        var files: Files = [:]
        for item in items.arrayValue ?? [] {
            let mode = Int(item["mode"].intValue ?? defaultMode ?? 0o644)
            let path = item["path"].stringValue ?? ""
            if let field = item["fieldRef"]["fieldPath"].stringValue {
                files[path] = (Array((environment.fieldValue(field) ?? "").utf8), mode)
            } else if item["resourceFieldRef"] != .null {
                let containerName = item["resourceFieldRef"]["containerName"].stringValue ?? ""
                let container = (environment.pod["spec"]["containers"].arrayValue ?? []).first { $0["name"].stringValue == containerName } ?? .null
                files[path] = (Array((environment.resourceValue(item["resourceFieldRef"], container: container) ?? "").utf8), mode)
            }
        }
        return files
    }

    /// Whether the pod has volumes whose content comes from the API (refreshed while the pod runs).
    static func hasAPIVolumes(_ pod: JSONValue) -> Bool {
        (pod["spec"]["volumes"].arrayValue ?? []).contains { v in
            v["configMap"] != .null || v["secret"] != .null || v["projected"] != .null || v["downwardAPI"] != .null
        }
    }

    /// Creates `path` (and `parent`) readable by root and its group only: pod directories hold Secrets' files.
    static func privateDirectory(_ path: String, parent: String) throws {
        for directory in [parent, path] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            chmod(directory, 0o750)
        }
    }

    /// Unmounts and removes everything the pod's volumes put on this node.
    func cleanUp(podUID: String) throws {
        tokens.forget(prefix: "\(podUID)/")
        let directory = podDirectory(podUID)
        for point in Mounts.mountPoints(under: directory) { try Mounts.unmount(point) }
        if FileManager.default.fileExists(atPath: directory) { try FileManager.default.removeItem(atPath: directory) }
    }
}

/// Tokens by key with the time after which they are fetched again.
final class TokenCache: Sendable {
    private let entries = Mutex<[String: (token: String, refresh: ContinuousClock.Instant)]>([:])

    func get(_ key: String) -> String? {
        entries.withLock { entries in
            guard let entry = entries[key], ContinuousClock.now < entry.refresh else { return nil }
            return entry.token
        }
    }

    func put(_ key: String, _ token: String, refreshAfter: Duration) {
        entries.withLock { $0[key] = (token, ContinuousClock.now + refreshAfter) }
    }

    func forget(prefix: String) {
        entries.withLock { entries in
            for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
        }
    }
}
