/// An object encoded once with the value of `metadata.resourceVersion` left open: the store assigns a write's
/// revision while it holds its lock, and stamping the digits into a copy of these bytes is all that has to happen
/// there (encoding a pod under the lock took 4 % of the server's CPU at scale and kept every read waiting on it).
///
/// `stamped(_:)` gives exactly the bytes `JSONWriter.bytes` gives for the object with that resourceVersion.
public struct ResourceVersionTemplate: Sendable {
    private let bytes: [UInt8]
    /// Where the value of `resourceVersion` goes: just after its `"resourceVersion":`.
    private let offset: Int

    /// nil when `object` is not an object with a `metadata` object.
    public init?(_ object: JSONValue) {
        guard case .object(let members) = object, case .object(var metadata)? = members["metadata"] else { return nil }
        // Present (with any value) so the key takes its sorted place among metadata's members.
        metadata["resourceVersion"] = .string("")
        var out: [UInt8] = []
        out.reserveCapacity(512)
        var offset = 0
        out.append(UInt8(ascii: "{"))
        for (i, (key, member)) in members.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            guard key == "metadata" else {
                JSONWriter.write(member, into: &out)
                continue
            }
            out.append(UInt8(ascii: "{"))
            for (j, (field, value)) in metadata.enumerated() {
                if j > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(field, into: &out)
                out.append(UInt8(ascii: ":"))
                if field == "resourceVersion" { offset = out.count } else { JSONWriter.write(value, into: &out) }
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        self.bytes = out
        self.offset = offset
    }

    /// The size of `stamped(revision)` for any revision of up to `digits` digits.
    public func count(digits: Int) -> Int { bytes.count + digits + 2 }

    /// The encoding with `resourceVersion` set to the decimal `revision`, in an array of exactly its size (it is
    /// kept as the stored value).
    public func stamped(_ revision: Int64) -> [UInt8] {
        let digits = Array(String(revision).utf8)
        return [UInt8](unsafeUninitializedCapacity: count(digits: digits.count)) { buffer, count in
            var i = buffer.initialize(fromContentsOf: bytes[..<offset])
            buffer[i] = UInt8(ascii: "\"")
            i = UnsafeMutableBufferPointer(rebasing: buffer[(i + 1)...]).initialize(fromContentsOf: digits) + i + 1
            buffer[i] = UInt8(ascii: "\"")
            i = UnsafeMutableBufferPointer(rebasing: buffer[(i + 1)...]).initialize(fromContentsOf: bytes[offset...]) + i + 1
            count = i
        }
    }
}
