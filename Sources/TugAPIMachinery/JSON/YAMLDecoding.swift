import Yams

/// YAML (a JSON superset) to `JSONValue`, for `application/apply-patch+yaml` and `application/yaml` bodies.
public enum YAMLDecoding {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func decode(_ text: String) throws(Failure) -> JSONValue {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw Failure(description: "error converting YAML to JSON: \(error)")
        }
        guard let node else { return .null }
        // Aliases are expanded by reference, so a few hundred bytes of nested aliases ("billion laughs") would
        // expand to gigabytes (CVE-2019-11253). Without aliases a document has fewer nodes than bytes; expansion
        // beyond a small factor of that is refused, as upstream's YAML decoder refuses excessive aliasing.
        var budget = Self.nodeBudget(forBytes: text.utf8.count)
        return try convert(node, depth: 0, budget: &budget)
    }

    /// Nodes a document of `bytes` may expand to.
    static func nodeBudget(forBytes bytes: Int) -> Int { 4 * bytes + 10_000 }

    private static func convert(_ node: Node, depth: Int, budget: inout Int) throws(Failure) -> JSONValue {
        guard depth < 256 else { throw Failure(description: "YAML nested too deeply") }
        budget -= 1
        guard budget >= 0 else { throw Failure(description: "error converting YAML to JSON: yaml: document contains excessive aliasing") }
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue:
                guard let d = node.float, d.isFinite else { return .string(scalar.string) }
                return .double(d)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: JSONObject = [:]
            for (key, value) in mapping {
                guard case .scalar(let k) = key else { throw Failure(description: "YAML mapping keys must be strings") }
                object[k.string] = try convert(value, depth: depth + 1, budget: &budget)
            }
            return .object(object)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            for element in sequence { array.append(try convert(element, depth: depth + 1, budget: &budget)) }
            return .array(array)
        case .alias:
            throw Failure(description: "YAML aliases are not supported")
        }
    }
}
