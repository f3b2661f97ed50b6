/// JSON patch (RFC 6902): `add`, `remove`, `replace`, `move`, `copy`, `test` at JSON pointers.
public enum JSONPatch {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        /// The patch exceeds a size limit (413 upstream) rather than being wrong (422).
        public var tooLarge = false
    }

    /// kube-apiserver's limits against patches that amplify (CVE-2019-1002100): operations per patch, and bytes
    /// that `copy` operations may add up to (each copy of a copy doubles the document).
    public static let maxOperations = 10_000
    public static let maxCopiedBytes = 3 << 20

    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(Failure) -> JSONValue {
        guard case .array(let operations) = patch else {
            throw Failure(description: "json: cannot unmarshal \(patch.typeName) into Go value of type jsonpatch.Patch")
        }
        guard operations.count <= maxOperations else {
            throw Failure(description: "The allowed maximum operations in a JSON patch is \(maxOperations), got \(operations.count)", tooLarge: true)
        }
        var doc = document
        var copied = 0
        for (i, operation) in operations.enumerated() {
            guard case .object = operation, let op = operation["op"].stringValue else {
                throw Failure(description: "operation \(i) is missing \"op\"")
            }
            guard let path = operation["path"].stringValue else { throw Failure(description: "operation \(i) (\(op)) is missing \"path\"") }
            let tokens = try pointer(path)
            switch op {
            case "add":
                guard case .object(let o) = operation, let value = o["value"] else { throw Failure(description: "add operation does not apply: missing value") }
                doc = try add(value, at: tokens[...], in: doc, path: path)
            case "remove":
                doc = try remove(at: tokens[...], in: doc, path: path).0
            case "replace":
                guard case .object(let o) = operation, let value = o["value"] else { throw Failure(description: "replace operation does not apply: missing value") }
                doc = try replace(value, at: tokens[...], in: doc, path: path)
            case "move":
                guard let from = operation["from"].stringValue else { throw Failure(description: "move operation is missing \"from\"") }
                let (removed, value) = try remove(at: try pointer(from)[...], in: doc, path: from)
                doc = try add(value, at: tokens[...], in: removed, path: path)
            case "copy":
                guard let from = operation["from"].stringValue else { throw Failure(description: "copy operation is missing \"from\"") }
                let value = try get(try pointer(from)[...], in: doc, path: from)
                copied += value.encodedSize(upTo: maxCopiedBytes - copied)
                guard copied <= maxCopiedBytes else {
                    throw Failure(description: "Unable to complete request: copy operations exceed the accumulated copied size limit of \(maxCopiedBytes) bytes", tooLarge: true)
                }
                doc = try add(value, at: tokens[...], in: doc, path: path)
            case "test":
                guard case .object(let o) = operation, let expected = o["value"] else { throw Failure(description: "test operation is missing value") }
                let actual = try get(tokens[...], in: doc, path: path)
                guard actual == expected else { throw Failure(description: "testing value \(path) failed: test failed") }
            default:
                throw Failure(description: "Unexpected kind: \(op)")
            }
        }
        return doc
    }

    static func pointer(_ path: String) throws(Failure) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw Failure(description: "JSON pointer must be empty or start with a \"/\": \(path)") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func index(_ token: String, count: Int, allowEnd: Bool, path: String) throws(Failure) -> Int {
        if allowEnd, token == "-" { return count }
        guard let i = Int(token), i >= 0, String(i) == token, allowEnd ? i <= count : i < count else {
            throw Failure(description: "index out of range or invalid at path \(path)")
        }
        return i
    }

    static func get(_ tokens: ArraySlice<String>, in doc: JSONValue, path: String) throws(Failure) -> JSONValue {
        guard let first = tokens.first else { return doc }
        switch doc {
        case .object(let o):
            guard let child = o[first] else { throw Failure(description: "doc is missing path: \(path): missing value") }
            return try get(tokens.dropFirst(), in: child, path: path)
        case .array(let a):
            let i = try index(first, count: a.count, allowEnd: false, path: path)
            return try get(tokens.dropFirst(), in: a[i], path: path)
        default:
            throw Failure(description: "doc is missing path: \(path): missing value")
        }
    }

    static func add(_ value: JSONValue, at tokens: ArraySlice<String>, in doc: JSONValue, path: String) throws(Failure) -> JSONValue {
        guard let first = tokens.first else { return value }
        let last = tokens.count == 1
        switch doc {
        case .object(var o):
            if last { o[first] = value; return .object(o) }
            guard let child = o[first] else { throw Failure(description: "add operation does not apply: doc is missing path: \"\(path)\": missing value") }
            o[first] = try add(value, at: tokens.dropFirst(), in: child, path: path)
            return .object(o)
        case .array(var a):
            if last {
                let i = try index(first, count: a.count, allowEnd: true, path: path)
                a.insert(value, at: i)
                return .array(a)
            }
            let i = try index(first, count: a.count, allowEnd: false, path: path)
            a[i] = try add(value, at: tokens.dropFirst(), in: a[i], path: path)
            return .array(a)
        default:
            throw Failure(description: "add operation does not apply: doc is missing path: \"\(path)\": missing value")
        }
    }

    static func replace(_ value: JSONValue, at tokens: ArraySlice<String>, in doc: JSONValue, path: String) throws(Failure) -> JSONValue {
        guard let first = tokens.first else { return value }
        switch doc {
        case .object(var o):
            guard let child = o[first] else { throw Failure(description: "replace operation does not apply: doc is missing key: \(path): missing value") }
            o[first] = try replace(value, at: tokens.dropFirst(), in: child, path: path)
            return .object(o)
        case .array(var a):
            let i = try index(first, count: a.count, allowEnd: false, path: path)
            a[i] = try replace(value, at: tokens.dropFirst(), in: a[i], path: path)
            return .array(a)
        default:
            throw Failure(description: "replace operation does not apply: doc is missing path: \(path): missing value")
        }
    }

    static func remove(at tokens: ArraySlice<String>, in doc: JSONValue, path: String) throws(Failure) -> (JSONValue, JSONValue) {
        guard let first = tokens.first else { throw Failure(description: "unable to remove the document root") }
        let last = tokens.count == 1
        switch doc {
        case .object(var o):
            guard let child = o[first] else { throw Failure(description: "remove operation does not apply: doc is missing path: \"\(path)\": missing value") }
            if last { o.removeValue(forKey: first); return (.object(o), child) }
            let (updated, removed) = try remove(at: tokens.dropFirst(), in: child, path: path)
            o[first] = updated
            return (.object(o), removed)
        case .array(var a):
            let i = try index(first, count: a.count, allowEnd: false, path: path)
            if last { let removed = a.remove(at: i); return (.array(a), removed) }
            let (updated, removed) = try remove(at: tokens.dropFirst(), in: a[i], path: path)
            a[i] = updated
            return (.array(a), removed)
        default:
            throw Failure(description: "remove operation does not apply: doc is missing path: \"\(path)\": missing value")
        }
    }
}
