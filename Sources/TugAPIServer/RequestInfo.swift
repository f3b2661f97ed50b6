import TugAPIMachinery

/// What a request path names, after Kubernetes' RequestInfoFactory:
/// `/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}` or `/apis/{group}/{version}/…`.
struct RequestInfo: Sendable, Hashable {
    var group = ""
    var version = ""
    var namespace: String?
    var resource = ""
    var name: String?
    var subresource: String?

    static let namespaceSubresources: Set<String> = ["status", "finalize"]

    /// Nil when the path is not a resource path (discovery, health, …).
    static func parse(_ path: String) -> RequestInfo? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let prefix = parts.first else { return nil }
        var info = RequestInfo()
        if prefix == "api" {
            guard parts.count >= 3 else { return nil }
            info.version = parts[1]
            parts.removeFirst(2)
        } else if prefix == "apis" {
            guard parts.count >= 4 else { return nil }
            info.group = parts[1]
            info.version = parts[2]
            parts.removeFirst(3)
        } else {
            return nil
        }
        // `namespaces/{ns}/status` and `namespaces/{ns}/finalize` are subresources of the namespace itself; any other
        // step after a namespace's name is a resource in it.
        if parts.first == "namespaces", parts.count >= 3, !Self.namespaceSubresources.contains(parts[2]) {
            info.namespace = parts[1]
            parts.removeFirst(2)
        }
        guard !parts.isEmpty, parts.count <= 3 else { return nil }
        info.resource = parts[0]
        if parts.count >= 2 { info.name = parts[1] }
        if parts.count == 3 { info.subresource = parts[2] }
        return info
    }
}

/// Query parameters as Kubernetes reads them (last value wins; `command` may repeat).
struct QueryParameters: Sendable {
    var values: [String: [String]] = [:]

    init(_ query: String) {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(String(kv[0]))
            let value = kv.count > 1 ? Self.decode(String(kv[1])) : ""
            values[key, default: []].append(value)
        }
    }

    subscript(_ key: String) -> String? { values[key]?.last }
    /// A boolean parameter as apimachinery converts one: absent is nil, "0" and "false" (any case) are false, and
    /// anything else (Python clients send "True") is true.
    func optionalBool(_ key: String) -> Bool? {
        self[key].map { $0 != "0" && $0.lowercased() != "false" }
    }

    func bool(_ key: String) -> Bool { optionalBool(key) ?? false }

    /// An integer parameter: nil when absent or empty, else an Int64 in `range`, or a 400 naming the parameter
    /// (never a value that overflows a clock or a conversion later).
    func integer(_ key: String, in range: ClosedRange<Int64> = 0...Int64.max) throws(StatusError) -> Int64? {
        guard let raw = self[key], !raw.isEmpty else { return nil }
        guard let value = Int64(raw) else {
            throw .badRequest("\(key): Invalid value: \"\(raw)\": must be an integer")
        }
        guard range.contains(value) else {
            let bound = value < range.lowerBound ? "greater than or equal to \(range.lowerBound)" : "less than or equal to \(range.upperBound)"
            throw .badRequest("\(key): Invalid value: \(value): must be \(bound)")
        }
        return value
    }

    static func decode(_ s: String) -> String {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }
}
