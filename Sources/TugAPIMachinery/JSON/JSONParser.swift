/// A strict, allocation-light JSON parser over UTF-8 bytes (RFC 8259).
///
/// It never traps on bad input: every failure is a `JSONParseError` with a byte offset. Nesting is bounded so that a
/// hostile body cannot exhaust the stack, and duplicate object keys are reported so strict decoding can reject them.
public struct JSONParser {
    public struct Options: Sendable {
        public var maxDepth: Int = 256
        public init() {}
    }

    public struct ParseResult: Sendable {
        public var value: JSONValue
        /// Paths (dotted, with `[i]` for array elements) of keys that appeared twice in one object.
        public var duplicateKeys: [String]
    }

    /// Parses one document. With an `interner`, decoded strings it already holds are shared rather than created
    /// (for objects a cache keeps; see `JSONInterner`).
    public static func parse(_ bytes: some Collection<UInt8>, options: Options = .init(),
                             interner: JSONInterner? = nil) throws(JSONParseError) -> ParseResult {
        // Contiguous input (an array, a slice of one, a ByteBuffer's view) is read in place, not copied.
        let parsed: Result<ParseResult, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result(catching: { () throws(JSONParseError) in try parse(buffer: buffer, options: options, interner: interner) })
        }
        if let parsed { return try parsed.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONParseError) in
            try parse(buffer: buffer, options: options, interner: interner)
        }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, options: Options, interner: JSONInterner?) throws(JSONParseError) -> ParseResult {
        let first = try parse(buffer: buffer, options: options, interner: interner, tracksPath: false)
        guard first.repeatedKey else { return ParseResult(value: first.value, duplicateKeys: []) }
        // A repeated key is rare: only then is the document read again, keeping the path that names it.
        let second = try parse(buffer: buffer, options: options, interner: interner, tracksPath: true)
        return ParseResult(value: second.value, duplicateKeys: second.duplicates)
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, options: Options, interner: JSONInterner?,
                              tracksPath: Bool) throws(JSONParseError) -> (value: JSONValue, repeatedKey: Bool, duplicates: [String]) {
        var parser = Cursor(bytes: buffer, maxDepth: options.maxDepth, interner: interner, tracksPath: tracksPath)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != buffer.count { throw JSONParseError(offset: parser.index, message: "invalid character after top-level value") }
        return (value, parser.repeatedKey, parser.duplicates)
    }

    public static func parseValue(_ bytes: some Collection<UInt8>, interner: JSONInterner? = nil) throws(JSONParseError) -> JSONValue {
        try parse(bytes, interner: interner).value
    }

    public static func parseValue(_ string: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(string.utf8)).value
    }
}

public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public var description: String { "\(message) at offset \(offset)" }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    /// Whether any object repeated a key; `duplicates` names them only when the path is tracked.
    var repeatedKey = false
    var duplicates: [String] = []
    /// The keys and indexes leading to the cursor, kept only when `tracksPath` (a second read, after a repeated key):
    /// keeping it costs a retain and an append for every member.
    let tracksPath: Bool
    var path: [PathComponent] = []
    let members = ParseStack<JSONObject.Element>()
    let elements = ParseStack<JSONValue>()
    let interner: JSONInterner?

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, interner: JSONInterner?, tracksPath: Bool) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.interner = interner
        self.tracksPath = tracksPath
    }

    func fail(_ message: String) -> JSONParseError { JSONParseError(offset: index, message: message) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < maxDepth else { throw fail("exceeded max depth of \(maxDepth)") }
        guard index < bytes.count else { throw fail("unexpected end of JSON input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("invalid character '\(Character(Unicode.Scalar(bytes[index])))' looking for beginning of value")
        }
    }

    mutating func expect(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of JSON input") }
        let start = literal.utf8Start
        for i in 0..<count where bytes[index + i] != start[i] {
            throw fail("invalid literal")
        }
        index += count
    }

    /// `parsed`, or the equal value the interner holds for the same bytes `begin..<index`.
    func shared(_ parsed: JSONValue, from begin: Int) -> JSONValue {
        guard let interner, JSONInterner.wantsContainer(index - begin) else { return parsed }
        return interner.container(UnsafeBufferPointer(rebasing: bytes[begin..<index]), parsed: parsed)
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        let begin = index
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(JSONObject()) }
        let start = members.count
        var sorted = true
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
            index += 1
            skipWhitespace()
            if tracksPath { path.append(.key(key)) }
            let value = try parseValue(depth: depth + 1)
            if tracksPath { path.removeLast() }
            if sorted, members.count > start, !(members[members.count - 1].key < key) { sorted = false }
            members.push((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                var object = members.pop(from: start)
                if !sorted {
                    let repeated = JSONObject.sortKeepingLast(&object)
                    if !repeated.isEmpty {
                        repeatedKey = true
                        if tracksPath { for key in repeated { duplicates.append(pathString(appending: key)) } }
                    }
                }
                return shared(.object(JSONObject(sortedMembers: object)), from: begin)
            }
            throw fail("expected ',' or '}' after object value")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        let begin = index
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
        let start = elements.count
        while true {
            skipWhitespace()
            if tracksPath { path.append(.index(elements.count - start)) }
            let element = try parseValue(depth: depth + 1)
            elements.push(element)
            if tracksPath { path.removeLast() }
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of JSON input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return shared(.array(elements.pop(from: start)), from: begin)
            }
            throw fail("expected ',' or ']' after array element")
        }
    }

    /// Where the cursor is, as the dotted path duplicate keys are reported with (`spec.containers[0].name`); built
    /// only for a report, not for every member.
    enum PathComponent {
        case key(String)
        case index(Int)
    }

    func pathString(appending key: String) -> String {
        var out = ""
        for component in path {
            switch component {
            case .key(let k): out += out.isEmpty ? k : "." + k
            case .index(let i): out += "[\(i)]"
            }
        }
        return out.isEmpty ? key : out + "." + key
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes. ASCII (every byte below 0x80) needs no UTF-8 validation.
        var high: UInt8 = 0
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                let decoded = if let interner, JSONInterner.wants(slice.count) {
                    interner.string(slice, ascii: high < 0x80)
                } else {
                    UTF8Text.string(slice, ascii: high < 0x80)
                }
                guard let decoded else { throw fail("invalid UTF-8 in string") }
                return decoded
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            high |= b
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                index += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if b < 0x20 { throw fail("invalid control character in string literal") }
            if b != UInt8(ascii: "\\") { out.append(b); index += 1; continue }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    // A surrogate pair; a lone high surrogate becomes U+FFFD as Go does.
                    if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        let low = try parseHex4()
                        if (0xDC00...0xDFFF).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            appendScalar(0xFFFD, to: &out)
                            scalar = low
                        }
                    } else {
                        scalar = 0xFFFD
                    }
                }
                appendScalar(scalar, to: &out)
            default: throw fail("invalid escape character in string")
            }
        }
        throw fail("unexpected end of JSON input in string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("unexpected end of JSON input in \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("invalid character in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    func appendScalar(_ value: UInt32, to out: inout [UInt8]) {
        let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
        out.append(contentsOf: String(Character(scalar)).utf8)
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var isFloat = false
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw fail("invalid number")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isFloat = true
            index += 1
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            if index == digits { throw fail("invalid number: expected digit after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isFloat = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            if index == digits { throw fail("invalid number: expected digit in exponent") }
        }
        if !isFloat, let i = integer(start..<index) { return .int(i) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw fail("number \(text) out of range") }
        return .double(d)
    }

    /// The integer spelled by the bytes in `range` (an optional `-` and digits, already checked), or nil when it does
    /// not fit in 64 bits.
    func integer(_ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var value: Int64 = 0
        while i < range.upperBound {
            let digit = Int64(bytes[i] &- UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            i += 1
        }
        return value
    }
}
