import Foundation
import Logging
import Synchronization
import TugAPIMachinery

/// Records core/v1 Events about objects, as client-go's recorder does for the kubelet and the scheduler: the first
/// occurrence creates an Event, repeats of the same reason and message on the same object raise its `count` and
/// `lastTimestamp`. Like client-go's spam filter, each object gets a burst of 25 events from a component, then one
/// more per 5 minutes (a ReplicaSet creating a thousand pods records 25 of them, not a thousand writes).
/// Writing is asynchronous and best-effort: an event never delays or fails the work it describes.
public final class EventRecorder: Sendable {
    let client: RESTClient
    let component: String
    let host: String?
    let logger: Logger
    /// Events written, by object, field path, reason and message: a repeat raises the count of the same Event.
    private let seen = Mutex(LRUCache<String, Seen>(capacity: EventRecorder.memory))
    /// The spam filter's token buckets, by object.
    private let budgets = Mutex(LRUCache<String, Budget>(capacity: EventRecorder.memory))
    struct Seen {
        var name: String
        var count: Int64
    }
    struct Budget {
        var tokens: Double
        var at: Date
    }
    static let memory = 4096
    static let burst = 25.0
    static let refillPerSecond = 1.0 / 300

    public init(client: RESTClient, component: String, host: String? = nil, logger: Logger) {
        self.client = client
        self.component = component
        self.host = host
        self.logger = logger
    }

    /// Takes a token from the object's bucket (burst 25, one more per 5 minutes).
    func allow(_ object: String) -> Bool {
        let now = Date()
        return budgets.withLock { budgets in
            var entry = budgets.value(for: object) ?? Budget(tokens: Self.burst, at: now)
            entry.tokens = min(Self.burst, entry.tokens + now.timeIntervalSince(entry.at) * Self.refillPerSecond)
            entry.at = now
            let allowed = entry.tokens >= 1
            if allowed { entry.tokens -= 1 }
            budgets.set(object, entry)
            return allowed
        }
    }

    /// `object` is the API object the event is about (kind, apiVersion and metadata are read from it).
    public func record(_ object: JSONValue, fieldPath: String? = nil, warning: Bool = false, reason: String, message: String) {
        let metadata = object["metadata"]
        let namespace = metadata["namespace"].stringValue ?? "default"
        let name = metadata["name"].stringValue ?? ""
        let uid = metadata["uid"].stringValue ?? ""
        var involved: JSONValue = ["kind": object["kind"].isNull ? "Pod" : object["kind"], "namespace": .string(namespace), "name": .string(name),
                                   "uid": .string(uid), "apiVersion": object["apiVersion"].isNull ? "v1" : object["apiVersion"]]
        if let fieldPath { involved["fieldPath"] = .string(fieldPath) }
        if let version = metadata["resourceVersion"].stringValue { involved["resourceVersion"] = .string(version) }
        guard allow(uid.isEmpty ? "\(namespace)/\(name)" : uid) else {
            logger.debug("event dropped by the spam filter", metadata: ["reason": "\(reason)", "object": "\(namespace)/\(name)"])
            return
        }
        let key = "\(uid)/\(fieldPath ?? "")/\(reason)/\(message)"
        let (eventName, count) = seen.withLock { seen -> (String, Int64) in
            var entry = seen.value(for: key) ?? Seen(name: "\(name).\(String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16))", count: 0)
            entry.count += 1
            seen.set(key, entry)
            return (entry.name, entry.count)
        }
        let now = KubeTime.format(Date()), micro = KubeTime.formatMicro(Date())
        let path = "/api/v1/namespaces/\(namespace)/events"
        Task { [client, component, host, logger] in
            do {
                if count > 1 {
                    _ = try await client.request(.PATCH, "\(path)/\(eventName)", body: ["count": .int(count), "lastTimestamp": .string(now)],
                                                 contentType: "application/merge-patch+json")
                    return
                }
                var source: JSONValue = ["component": .string(component)]
                if let host { source["host"] = .string(host) }
                let event: JSONValue = [
                    "apiVersion": "v1", "kind": "Event",
                    "metadata": ["name": .string(eventName), "namespace": .string(namespace)],
                    "involvedObject": involved, "reason": .string(reason), "message": .string(message),
                    "type": warning ? "Warning" : "Normal", "source": source, "count": 1,
                    "firstTimestamp": .string(now), "lastTimestamp": .string(now), "eventTime": .string(micro),
                    "reportingComponent": .string(component), "reportingInstance": .string(host ?? component), "action": .string(reason),
                ]
                let response = try await client.request(.POST, path, body: event)
                if response.status >= 300 && response.status != 404 {
                    logger.debug("event not recorded", metadata: ["reason": "\(reason)", "status": "\(response.status)"])
                }
            } catch {
                logger.debug("event not recorded", metadata: ["reason": "\(reason)", "error": "\(error)"])
            }
        }
    }
}
