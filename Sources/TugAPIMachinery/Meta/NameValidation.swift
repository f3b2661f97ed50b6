/// The name rules of apimachinery's `validation` package: DNS-1123 subdomains and labels, qualified names, label values.
public enum NameValidation {
    public static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    public static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    public static let dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

    static func isLowerAlnum(_ c: UInt8) -> Bool { (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) }
    public static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (0x41...0x5A).contains(c) }

    public static func isDNS1123Label(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count <= 63, isLowerAlnum(b[0]), isLowerAlnum(b[b.count - 1]) else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    public static func isDNS1035Label(_ s: String) -> Bool {
        guard let first = s.utf8.first, (0x61...0x7A).contains(first) else { return false }
        return isDNS1123Label(s)
    }

    public static func isDNS1123Subdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNS1123Label(String($0)) }
    }

    /// Errors for a name that must be a DNS-1123 subdomain (most object names).
    public static func subdomainErrors(_ s: String) -> [String] {
        var out: [String] = []
        if s.utf8.count > 253 { out.append("must be no more than 253 characters") }
        if !isDNS1123Subdomain(s) { out.append(dns1123SubdomainMessage) }
        return out
    }

    public static func labelErrors(_ s: String) -> [String] {
        var out: [String] = []
        if s.utf8.count > 63 { out.append("must be no more than 63 characters") }
        if !isDNS1123Label(s) { out.append(dns1123LabelMessage) }
        return out
    }

    /// `[prefix/]name` where name is ≤63 chars of alphanumerics, `-`, `_`, `.` starting and ending alphanumeric.
    public static func qualifiedName(_ s: String) -> [String] {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var name = s
        var out: [String] = []
        if parts.count == 2 {
            if parts[0].isEmpty { out.append("prefix part must be non-empty") } else if !isDNS1123Subdomain(parts[0]) { out.append("prefix part " + dns1123SubdomainMessage) }
            name = parts[1]
        } else if parts.count > 2 {
            return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        let b = Array(name.utf8)
        if b.isEmpty { out.append("name part must be non-empty"); return out }
        if b.count > 63 { out.append("name part must be no more than 63 characters") }
        let ok = isAlnum(b[0]) && isAlnum(b[b.count - 1]) && b.allSatisfy { isAlnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
        if !ok { out.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')") }
        return out
    }

    public static func labelValue(_ s: String) -> [String] {
        let b = Array(s.utf8)
        if b.isEmpty { return [] }
        var out: [String] = []
        if b.count > 63 { out.append("must be no more than 63 characters") }
        let ok = isAlnum(b[0]) && isAlnum(b[b.count - 1]) && b.allSatisfy { isAlnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
        if !ok { out.append("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')") }
        return out
    }
}
