/// An image reference normalised the way Docker and Kubernetes do: `busybox` → `docker.io/library/busybox:latest`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws(Invalid) {
        var rest = text
        if let at = rest.firstIndex(of: "@") {
            guard let d = Digest(String(rest[rest.index(after: at)...])) else { throw Invalid(description: "invalid digest in image reference \"\(text)\"") }
            digest = d
            rest = String(rest[..<at])
        }
        // A tag is after the last colon that follows the last slash (a colon before it is a registry port).
        if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/") {
            let t = String(rest[rest.index(after: colon)...])
            guard !t.isEmpty, t.utf8.count <= 128, t.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
                throw Invalid(description: "invalid tag in image reference \"\(text)\"")
            }
            tag = t
            rest = String(rest[..<colon])
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !rest.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else { throw Invalid(description: "invalid image reference \"\(text)\"") }
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            registry = parts[0]
            repository = parts.dropFirst().joined(separator: "/")
        } else {
            registry = "docker.io"
            repository = parts.count == 1 ? "library/\(parts[0])" : rest
        }
        guard repository.allSatisfy({ $0.isLowercase || $0.isNumber || "._-/".contains($0) }) else {
            throw Invalid(description: "invalid image reference \"\(text)\": repository names must be lowercase")
        }
        if tag == nil, digest == nil { tag = "latest" }
    }

    /// `docker.io/library/busybox:latest` (or `…@sha256:…`).
    public var description: String {
        var s = "\(registry)/\(repository)"
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }
}

extension ImageReference {
    /// `docker.io/library/busybox` for any reference to it (no tag or digest); the text itself if it does not parse.
    public static func repository(of text: String) -> String {
        guard let ref = try? ImageReference(parsing: text) else { return text }
        return "\(ref.registry)/\(ref.repository)"
    }
}
