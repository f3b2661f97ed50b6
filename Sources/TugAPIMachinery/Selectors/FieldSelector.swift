/// A parsed field selector: `metadata.name=x,spec.nodeName!=`, the operators `=`, `==` and `!=`.
public struct FieldSelector: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public var field: String
        public var value: String
        public var negated: Bool
    }

    public var requirements: [Requirement]
    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ fields: [String: String]) -> Bool { matches { fields[$0] } }

    /// Matches against any field lookup; a missing field reads as "".
    public func matches(_ field: (String) -> String?) -> Bool {
        requirements.allSatisfy { r in
            let value = field(r.field) ?? ""
            return r.negated ? value != r.value : value == r.value
        }
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ text: String) throws(ParseError) -> FieldSelector {
        var requirements: [Requirement] = []
        for term in splitTerms(text) where !term.isEmpty {
            if let r = term.range(of: "!=") {
                requirements.append(Requirement(field: String(term[..<r.lowerBound]), value: unescape(String(term[r.upperBound...])), negated: true))
            } else if let r = term.range(of: "==") {
                requirements.append(Requirement(field: String(term[..<r.lowerBound]), value: unescape(String(term[r.upperBound...])), negated: false))
            } else if let r = term.range(of: "=") {
                requirements.append(Requirement(field: String(term[..<r.lowerBound]), value: unescape(String(term[r.upperBound...])), negated: false))
            } else {
                throw ParseError(description: "invalid selector: '\(text)'; can't understand '\(term)'")
            }
        }
        return FieldSelector(requirements: requirements)
    }

    /// Splits on commas not escaped with a backslash.
    static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped { current.append(c); escaped = false; continue }
            if c == "\\" { current.append(c); escaped = true; continue }
            if c == "," { terms.append(current); current = ""; continue }
            current.append(c)
        }
        terms.append(current)
        return terms
    }

    static func unescape(_ value: String) -> String {
        var out = ""
        var escaped = false
        for c in value {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
