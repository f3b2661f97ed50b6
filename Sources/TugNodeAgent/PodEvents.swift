import TugAPIMachinery
import TugClient

/// Where the agent reports what happens to pods (the kubelet's events: Pulling, Pulled, Created, Started, Killing,
/// BackOff, Unhealthy, Failed…). `fieldPath` names the container, `spec.containers{name}`.
protocol PodEvents: Sendable {
    func record(_ pod: JSONValue, fieldPath: String?, warning: Bool, reason: String, message: String)
}

extension PodEvents {
    func normal(_ pod: JSONValue, container: String? = nil, _ reason: String, _ message: String) {
        record(pod, fieldPath: container.map { Self.fieldPath(pod, $0) }, warning: false, reason: reason, message: message)
    }

    func warning(_ pod: JSONValue, container: String? = nil, _ reason: String, _ message: String) {
        record(pod, fieldPath: container.map { Self.fieldPath(pod, $0) }, warning: true, reason: reason, message: message)
    }

    static func fieldPath(_ pod: JSONValue, _ container: String) -> String {
        let isInit = (pod["spec"]["initContainers"].arrayValue ?? []).contains { $0["name"].stringValue == container }
        return "spec.\(isInit ? "initContainers" : "containers"){\(container)}"
    }
}

/// The recorder's `record` is the requirement itself.
extension EventRecorder: PodEvents {}
