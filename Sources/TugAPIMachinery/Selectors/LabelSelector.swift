/// A parsed label selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma meaning AND.
public struct LabelSelector: Sendable, Hashable {
    public enum Operator: Sendable, Hashable { case equals, notEquals, `in`, notIn, exists, doesNotExist }

    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String]) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool { matches { labels[$0] } }

        /// Matches against any label lookup (stored attributes keep labels in a compact map of their own).
        public func matches(_ label: (String) -> String?) -> Bool {
            let value = label(key)
            switch op {
            case .equals, .in: return value.map(values.contains) ?? false
            case .notEquals, .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }
    }

    public var requirements: [Requirement]
    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public var isEmpty: Bool { requirements.isEmpty }
    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }
    public func matches(_ label: (String) -> String?) -> Bool { requirements.allSatisfy { $0.matches(label) } }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ text: String) throws(ParseError) -> LabelSelector {
        var lexer = SelectorLexer(Array(text.unicodeScalars))
        var requirements: [Requirement] = []
        while true {
            lexer.skipSpaces()
            if lexer.atEnd { break }
            requirements.append(try parseRequirement(&lexer, text: text))
            lexer.skipSpaces()
            if lexer.atEnd { break }
            guard lexer.consume(",") else { throw ParseError(description: "unable to parse requirement: found '\(lexer.rest)', expected: ','") }
        }
        return LabelSelector(requirements: requirements)
    }

    private static func parseRequirement(_ lexer: inout SelectorLexer, text: String) throws(ParseError) -> Requirement {
        if lexer.consume("!") {
            lexer.skipSpaces()
            let key = lexer.identifier()
            guard !key.isEmpty else { throw ParseError(description: "unable to parse requirement: expected a key after '!'") }
            try validateKey(key)
            return Requirement(key: key, op: .doesNotExist, values: [])
        }
        let key = lexer.identifier()
        guard !key.isEmpty else { throw ParseError(description: "unable to parse requirement: found '\(lexer.rest)', expected: identifier") }
        try validateKey(key)
        lexer.skipSpaces()
        if lexer.atEnd || lexer.peek == "," { return Requirement(key: key, op: .exists, values: []) }
        if lexer.consume("==") || lexer.consume("=") {
            lexer.skipSpaces()
            let value = lexer.identifier()
            try validateValue(value)
            return Requirement(key: key, op: .equals, values: [value])
        }
        if lexer.consume("!=") {
            lexer.skipSpaces()
            let value = lexer.identifier()
            try validateValue(value)
            return Requirement(key: key, op: .notEquals, values: [value])
        }
        let word = lexer.identifier()
        let op: Operator
        switch word {
        case "in": op = .in
        case "notin": op = .notIn
        default: throw ParseError(description: "unable to parse requirement: found '\(word)', expected: in, notin, =, ==, !=")
        }
        lexer.skipSpaces()
        guard lexer.consume("(") else { throw ParseError(description: "unable to parse requirement: expected '(' after '\(word)'") }
        var values: [String] = []
        while true {
            lexer.skipSpaces()
            let value = lexer.identifier()
            try validateValue(value)
            values.append(value)
            lexer.skipSpaces()
            if lexer.consume(",") { continue }
            if lexer.consume(")") { break }
            throw ParseError(description: "unable to parse requirement: found '\(lexer.rest)', expected: ',', ')'")
        }
        return Requirement(key: key, op: op, values: values)
    }

    static func validateKey(_ key: String) throws(ParseError) {
        let errors = NameValidation.qualifiedName(key)
        if !errors.isEmpty { throw ParseError(description: "invalid label key \"\(key)\": \(errors.joined(separator: "; "))") }
    }

    static func validateValue(_ value: String) throws(ParseError) {
        let errors = NameValidation.labelValue(value)
        if !errors.isEmpty { throw ParseError(description: "invalid label value: \"\(value)\": at key: \(errors.joined(separator: "; "))") }
    }

    /// A `metav1.LabelSelector` object (`matchLabels` + `matchExpressions`) as a selector.
    public static func from(_ object: JSONValue) throws(ParseError) -> LabelSelector {
        var requirements: [Requirement] = []
        for (key, value) in object["matchLabels"].stringMap.sorted(by: { $0.key < $1.key }) {
            requirements.append(Requirement(key: key, op: .equals, values: [value]))
        }
        for expression in object["matchExpressions"].arrayValue ?? [] {
            let key = expression["key"].stringValue ?? ""
            let values = expression["values"].arrayValue?.compactMap(\.stringValue) ?? []
            switch expression["operator"].stringValue {
            case "In": requirements.append(Requirement(key: key, op: .in, values: values))
            case "NotIn": requirements.append(Requirement(key: key, op: .notIn, values: values))
            case "Exists": requirements.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            case let other: throw ParseError(description: "\"\(other ?? "")\" is not a valid label selector operator")
            }
        }
        return LabelSelector(requirements: requirements)
    }

    /// The canonical string form, as printed in Scale `status.selector` and `-o wide` columns.
    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals: return "\(r.key)=\(r.values.first ?? "")"
            case .notEquals: return "\(r.key)!=\(r.values.first ?? "")"
            case .in: return "\(r.key) in (\(r.values.sorted().joined(separator: ",")))"
            case .notIn: return "\(r.key) notin (\(r.values.sorted().joined(separator: ",")))"
            case .exists: return r.key
            case .doesNotExist: return "!\(r.key)"
            }
        }.joined(separator: ",")
    }
}

struct SelectorLexer {
    var scalars: [Unicode.Scalar]
    var index = 0
    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }
    var rest: String { String(String.UnicodeScalarView(scalars[index...])) }

    mutating func skipSpaces() { while let c = peek, c == " " || c == "\t" { index += 1 } }

    mutating func consume(_ token: String) -> Bool {
        let t = Array(token.unicodeScalars)
        guard index + t.count <= scalars.count, Array(scalars[index..<index + t.count]) == t else { return false }
        index += t.count
        return true
    }

    /// Label keys and values: letters, digits, `-`, `_`, `.`, `/`.
    mutating func identifier() -> String {
        let start = index
        while let c = peek, c.properties.isAlphabetic || ("0"..."9").contains(c) || "-_./".unicodeScalars.contains(c) { index += 1 }
        return String(String.UnicodeScalarView(scalars[start..<index]))
    }
}
