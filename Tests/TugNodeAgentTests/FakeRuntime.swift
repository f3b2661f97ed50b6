import Foundation
import Synchronization
import TugAPIMachinery
import TugOS
@testable import TugNodeAgent
@testable import TugRuntime

/// An in-memory runtime: sandboxes and containers are records; tests end containers with `exit`.
final class FakeRuntime: ContainerRuntime {
    struct State {
        var sandboxes: [String: SandboxInfo] = [:]
        var containers: [String: ContainerInfo] = [:]
        var started: [String] = []
        var nextIP = 2
    }

    let state = Mutex(State())

    func runSandbox(_ config: SandboxConfig) async throws -> SandboxInfo {
        state.withLock { state in
            let id = "s\(state.sandboxes.count + 1)"
            let info = SandboxInfo(id: id, podUID: config.podUID, name: config.name, namespace: config.namespace, attempt: config.attempt,
                                   createdAt: RuntimeRecords.now(), state: .ready, ip: "10.42.0.\(state.nextIP)", pid: 1, monitorPID: 1,
                                   hostNetwork: config.hostNetwork, portMappings: config.portMappings)
            state.nextIP += 1
            state.sandboxes[id] = info
            return info
        }
    }

    func stopSandbox(_ id: String) async throws {
        state.withLock { state in
            state.sandboxes[id]?.state = .notReady
            for (cid, c) in state.containers where c.sandboxID == id && c.state == .running {
                state.containers[cid]?.state = .exited
                state.containers[cid]?.exitCode = 137
                state.containers[cid]?.reason = "Error"
            }
        }
    }

    func removeSandbox(_ id: String) async throws {
        state.withLock { state in
            state.sandboxes[id] = nil
            state.containers = state.containers.filter { $0.value.sandboxID != id }
        }
    }

    func sandboxes() async throws -> [SandboxInfo] { state.withLock { Array($0.sandboxes.values) } }

    func startContainer(_ config: ContainerConfig, in sandbox: SandboxInfo) async throws -> ContainerInfo {
        state.withLock { state in
            let id = "c\(state.started.count + 1)"
            state.started.append(config.name)
            let info = ContainerInfo(id: id, sandboxID: sandbox.id, podUID: sandbox.podUID, name: config.name, attempt: config.attempt,
                                     image: config.image.reference, imageID: config.image.imageID, createdAt: RuntimeRecords.now(),
                                     startedAt: RuntimeRecords.now(), finishedAt: nil, state: .running, exitCode: nil, reason: nil, pid: 1,
                                     monitorPID: 1, logPath: config.logPath, labels: config.labels)
            state.containers[id] = info
            return info
        }
    }

    func stopContainer(_ id: String, gracePeriod: Duration) async throws {
        exit(id, code: 137)
    }

    func removeContainer(_ id: String) async throws { _ = state.withLock { $0.containers.removeValue(forKey: id) } }
    func containers() async throws -> [ContainerInfo] { state.withLock { Array($0.containers.values) } }
    func containers(ofPod podUID: String) async throws -> [ContainerInfo] { try await containers().filter { $0.podUID == podUID } }
    func exec(_ id: String, command: [String], timeout: Duration) async throws -> CommandResult { CommandResult(status: 0, stdout: [], stderr: []) }
    func openExec(_ id: String, command: [String], tty: Bool, stdin: Bool, size: (width: UInt16, height: UInt16)?) async throws -> any ExecSession {
        throw RuntimeError("the fake runtime has no processes")
    }
    func openAttach(_ id: String) async throws -> any ExecSession {
        throw RuntimeError("the fake runtime has no processes")
    }

    /// Ends a running container named `name` (the latest attempt) with `code`.
    func exit(named name: String, code: Int32) {
        let id = state.withLock { state in
            state.containers.values.filter { $0.name == name && $0.state == .running }.max { $0.attempt < $1.attempt }?.id
        }
        if let id { exit(id, code: code) }
    }

    func exit(_ id: String, code: Int32) {
        state.withLock { state in
            guard state.containers[id]?.state == .running else { return }
            state.containers[id]?.state = .exited
            state.containers[id]?.exitCode = code
            state.containers[id]?.finishedAt = RuntimeRecords.now()
            state.containers[id]?.reason = code == 0 ? "Completed" : "Error"
        }
    }

    var startedNames: [String] { state.withLock { $0.started } }
}

struct FakeImages: ImageProvider {
    var missing: Set<String> = []

    func ensure(_ reference: String, policy: String, willPull: @Sendable () -> Void) async throws -> (image: ResolvedImage, pulled: Duration?) {
        if missing.contains(reference) {
            willPull()
            throw ImageUnavailable(reason: "ErrImagePull", description: "no such image \(reference)")
        }
        return (ResolvedImage(reference: "docker.io/library/\(reference):latest", manifest: Digest(of: Array(reference.utf8)),
                              configDigest: Digest(of: []), layers: [], cmd: ["sh"]), nil)
    }
}

struct FakeCluster: ClusterReader {
    var objects: [String: [String: [UInt8]]] = [:]
    func data(kind: String, namespace: String, name: String) async throws -> [String: [UInt8]]? { objects["\(kind)/\(name)"] }
    var claims: [String: String] = [:]
    func serviceAccountToken(namespace: String, name: String, audience: String?, expirationSeconds: Int64, podName: String, podUID: String) async throws -> String { "token" }
    func claimUID(namespace: String, name: String) async throws -> String? { claims[name] }
    var services: [String: [JSONValue]] = [:]
    func services(namespace: String) async throws -> [JSONValue] { services[namespace] ?? [] }
}

final class RecordingWriter: PodStatusWriter {
    let statuses = Mutex<[JSONValue]>([])
    let deleted = Mutex<[String]>([])

    func patchStatus(namespace: String, name: String, uid: String, status: JSONValue) async throws {
        statuses.withLock { $0.append(status) }
    }

    func deletePod(namespace: String, name: String, uid: String) async throws {
        deleted.withLock { $0.append(name) }
    }

    var last: JSONValue { statuses.withLock { $0.last ?? .null } }
}

final class RecordingEvents: PodEvents {
    let recorded = Mutex<[(reason: String, message: String, warning: Bool)]>([])

    func record(_ pod: JSONValue, fieldPath: String?, warning: Bool, reason: String, message: String) {
        recorded.withLock { $0.append((reason, message, warning)) }
    }

    var reasons: [String] { recorded.withLock { $0.map(\.reason) } }
}
