import Foundation
import Logging
import NIOHTTP1
import TugAPIMachinery

/// List-then-watch of one collection, resumed from the last seen resourceVersion after every disconnect and
/// re-listed when that version is gone (410): client-go's reflector. Runs until its task is cancelled.
public struct Reflector: Sendable {
    public enum Event: Sendable {
        /// A full list: the collection is exactly these objects now (sent after every (re)list).
        case replace([JSONValue])
        case added(JSONValue)
        case modified(JSONValue)
        case deleted(JSONValue)

        /// The objects as they are now after this event (none for a deletion).
        public var current: [JSONValue] {
            switch self {
            case .replace(let all): return all
            case .added(let o), .modified(let o): return [o]
            case .deleted: return []
            }
        }
    }

    let client: RESTClient
    /// Collection path, e.g. `/api/v1/pods`.
    let path: String
    /// Extra query, e.g. `fieldSelector=spec.nodeName%3Dnode-1`.
    let query: String
    let logger: Logger

    public init(client: RESTClient, path: String, query: String = "", logger: Logger) {
        self.client = client
        self.path = path
        self.query = query
        self.logger = logger
    }

    public func run(_ handle: @escaping @Sendable (Event) async -> Void) async {
        var backoff = Duration.milliseconds(200)
        // The objects a reflector delivers are usually kept (an informer's cache): their repeated strings are shared.
        let interner = JSONInterner()
        while !Task.isCancelled {
            do {
                var version = try await list(handle, interner: interner)
                backoff = .milliseconds(200)
                // Watch until the version is too old (relist) or the task ends.
                while !Task.isCancelled {
                    guard let next = try await watch(from: version, handle, interner: interner) else { break }
                    version = next
                }
            } catch is CancellationError {
                return
            } catch {
                logger.debug("list/watch failed; retrying", metadata: ["path": "\(path)", "error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    func separator(_ base: String) -> String { base.contains("?") ? "&" : "?" }

    func list(_ handle: @Sendable (Event) async -> Void, interner: JSONInterner? = nil) async throws -> String {
        let response = try await client.request(.GET, path + (query.isEmpty ? "" : "?" + query))
        guard response.status == 200 else { throw Kubeconfig.Failure(description: "list \(path): HTTP \(response.status)") }
        let document = response.json(interning: interner)
        await handle(.replace(document["items"].arrayValue ?? []))
        return document["metadata"]["resourceVersion"].stringValue ?? ""
    }

    /// One watch request; returns the version to resume from, or nil when a relist is needed.
    func watch(from version: String, _ handle: @escaping @Sendable (Event) async -> Void, interner: JSONInterner? = nil) async throws -> String? {
        let url = path + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=\(version)" + (query.isEmpty ? "" : "&" + query)
        let latest = LatestVersion(version)
        var expired = false
        let expiredFlag = ExpiredFlag()
        try await client.watch(url, interner: interner) { event in
            let object = event["object"]
            if let rv = object["metadata"]["resourceVersion"].stringValue { latest.set(rv) }
            switch event["type"].stringValue {
            case "ADDED": await handle(.added(object))
            case "MODIFIED": await handle(.modified(object))
            case "DELETED": await handle(.deleted(object))
            case "ERROR":
                if object["code"].intValue == 410 { expiredFlag.set() }
                return false
            default: break
            }
            return true
        }
        expired = expiredFlag.isSet
        return expired ? nil : latest.value
    }
}

/// The newest resourceVersion a watch has seen (shared with the event callback).
final class LatestVersion: @unchecked Sendable {
    private let lock = NSLock()
    private var current: String

    init(_ initial: String) { current = initial }
    var value: String { lock.withLock { current } }
    func set(_ version: String) { lock.withLock { current = version } }
}

final class ExpiredFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.withLock { flag } }
    func set() { lock.withLock { flag = true } }
}
