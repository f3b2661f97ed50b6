/// Serialises `JSONValue` to compact JSON with sorted object keys: one canonical byte form per value.
public enum JSONWriter {
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    /// `bytes(value)` in an array of exactly its size, for encodings that are kept (stored objects): a grown
    /// array keeps up to half again its size as slack, for as long as the object is stored.
    public static func exactBytes(_ value: JSONValue) -> [UInt8] {
        let grown = bytes(value)
        return [UInt8](unsafeUninitializedCapacity: grown.count) { buffer, count in
            count = buffer.initialize(fromContentsOf: grown)
        }
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): writeDouble(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, element) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            // Members are kept in key order: the canonical form needs no sort.
            for (key, member) in o {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(member, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else { out.append(contentsOf: "null".utf8); return }
        if d.rounded() == d, abs(d) < 1e15 {
            out.append(contentsOf: String(Int64(d)).utf8)
        } else {
            out.append(contentsOf: "\(d)".utf8)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x3C, 0x3E, 0x26, 0..<0x20:
                // Like Go, escape control characters and HTML-significant bytes as \u00XX.
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// About how many bytes this value encodes to (strings unescaped), counting no further than `limit`: the
    /// walk stops once the limit is passed (and returns more than it), so measuring a value that doubled itself
    /// many times costs no more than the limit.
    public func encodedSize(upTo limit: Int) -> Int {
        var remaining = limit
        func walk(_ value: JSONValue) -> Bool {
            switch value {
            case .null, .bool: remaining -= 5
            case .int, .double: remaining -= 8
            case .string(let s): remaining -= s.utf8.count + 2
            case .array(let items):
                remaining -= 2
                for item in items where remaining >= 0 { if !walk(item) { return false } }
            case .object(let entries):
                remaining -= 2
                for (key, item) in entries where remaining >= 0 {
                    remaining -= key.utf8.count + 4
                    if !walk(item) { return false }
                }
            }
            return remaining >= 0
        }
        _ = walk(self)
        return limit - remaining
    }
}
