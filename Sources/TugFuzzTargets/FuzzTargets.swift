import TugAPI
import TugAPIMachinery
import TugDNSWire

/// One entry point per parser that takes untrusted bytes. Each must return for any input: a trap, a runaway
/// allocation or a broken round trip is a bug. libFuzzer drives them through `tug-fuzz`; `swift test` replays every
/// kept input (the seeds and the inputs that once failed).
public enum FuzzTargets {
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "json": json, "yaml": yaml, "protobuf": protobuf, "patch": patch, "selectors": selectors, "quantity": quantity, "dns": dns,
    ]

    /// JSON: whatever parses writes back to JSON that parses to the same bytes again.
    public static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes).value else { return }
        let written = JSONWriter.bytes(value)
        guard let again = try? JSONParser.parseValue(written) else { fatalError("JSONWriter wrote unparseable JSON for \(written.count) bytes") }
        precondition(JSONWriter.bytes(again) == written, "JSON round trip changed the document")
    }

    /// YAML (aliases and all), as request bodies are decoded.
    public static func yaml(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        _ = try? YAMLDecoding.decode(text)
    }

    /// Protobuf: the `k8s\0` envelope, then its payload (and the raw bytes) as a Pod.
    public static func protobuf(_ bytes: [UInt8]) {
        if let envelope = try? ProtobufDecoder.envelope(bytes) {
            _ = try? ProtobufDecoder.decode(envelope.raw, schema: PodSchemas.pod)
        }
        _ = try? ProtobufDecoder.decode(bytes, schema: PodSchemas.pod)
    }

    static let pod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "labels": ["a": "b"], "finalizers": ["x"]],
        "spec": ["containers": [["name": "c", "image": "busybox", "ports": [["containerPort": 80]], "env": [["name": "A", "value": "1"]]]],
                 "volumes": [["name": "v", "emptyDir": .emptyObject]]],
    ]

    /// Patches applied to a Pod: an array as a JSON patch, an object as a merge patch and a strategic merge patch.
    public static func patch(_ bytes: [UInt8]) {
        guard let patch = try? JSONParser.parseValue(bytes) else { return }
        switch patch {
        case .array:
            _ = try? JSONPatch.apply(patch, to: pod)
        case .object:
            _ = MergePatch.apply(patch, to: pod)
            _ = try? StrategicMergePatch.apply(patch, to: pod, schema: PodSchemas.pod)
            _ = StrategicMergePatch.removeDirectives(patch)
        default:
            break
        }
    }

    /// Label and field selectors as query parameters carry them, then matched.
    public static func selectors(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let labels = try? LabelSelector.parse(text) { _ = labels.matches(["a": "b", "app": "web"]) }
        if let fields = try? FieldSelector.parse(text) { _ = fields.matches(["metadata.name": "p", "spec.nodeName": "n"]) }
        if let object = try? JSONParser.parseValue(bytes), let labels = try? LabelSelector.from(object) { _ = labels.matches(["a": "b"]) }
    }

    /// Quantities, with every integer conversion the scheduler, cgroups and volumes use.
    public static func quantity(_ bytes: [UInt8]) {
        guard let q = Quantity.parse(String(decoding: bytes, as: UTF8.self)) else { return }
        _ = q.value
        _ = q.milliUnits
        _ = q.value.saturatingMultiply(1024).saturatingAdd(q.milliUnits).saturatingSubtract(Int64.min)
    }

    /// DNS messages as the cluster DNS server receives them: what parses encodes to a message that parses again.
    public static func dns(_ bytes: [UInt8]) {
        guard let message = try? DNSMessage(parsing: bytes) else { return }
        let encoded = message.encoded()
        guard (try? DNSMessage(parsing: encoded)) != nil else { fatalError("DNSMessage encoded an unparseable message") }
        _ = message.truncatedForUDP().encoded()
    }
}
