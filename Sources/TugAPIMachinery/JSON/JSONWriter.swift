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
        case .int(let i): writeInteger(i, into: &out)
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
            writeInteger(Int64(d), into: &out)
        } else {
            out.append(contentsOf: "\(d)".utf8)
        }
    }

    private static let hex: StaticString = "0123456789abcdef"

    /// Which bytes a string cannot hold as they are: `"`, `\\`, control characters, and like Go `<`, `>`, `&`.
    @inline(__always)
    private static func needsEscape(_ b: UInt8) -> Bool {
        b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x3C || b == 0x3E || b == 0x26
    }

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            // Runs of bytes that need no escape (nearly every string is one run) are copied whole.
            var run = 0
            for i in 0..<utf8.count where needsEscape(utf8[i]) {
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<i])) }
                writeEscaped(utf8[i], into: &out)
                run = i + 1
            }
            if run < utf8.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscaped(_ b: UInt8, into out: inout [UInt8]) {
        out.append(0x5C)
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            // Like Go, other control characters and HTML-significant bytes are written as \u00XX.
            let digits = hex.utf8Start
            out.append(UInt8(ascii: "u"))
            out.append(UInt8(ascii: "0"))
            out.append(UInt8(ascii: "0"))
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
    }

    /// Decimal digits of `i`, without making a String.
    static func writeInteger(_ i: Int64, into out: inout [UInt8]) {
        if i == 0 { out.append(UInt8(ascii: "0")); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of any Int64
        var magnitude = i.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            if i < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
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
