/// The Service IP range (`--service-cidr`, 10.43.0.0/16 by default, as k3s): cluster IPs are allocated from it, its
/// first address is the `kubernetes` Service and its tenth is reserved for cluster DNS.
public struct ServiceNetwork: Sendable, Hashable, CustomStringConvertible {
    public let base: UInt32
    public let prefixLength: Int

    public static let `default` = ServiceNetwork(base: 10 << 24 | 43 << 16, prefixLength: 16)

    init(base: UInt32, prefixLength: Int) {
        self.base = base
        self.prefixLength = prefixLength
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// An IPv4 CIDR from /8 to /28 (at least 16 addresses: the kubernetes and DNS Services need the first ten).
    public init(cidr: String) throws(ParseError) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]), (8...28).contains(length), let ip = Self.parse(String(parts[0])) else {
            throw ParseError(description: "invalid service CIDR \"\(cidr)\": want an IPv4 range such as 10.43.0.0/16 (prefix /8 to /28)")
        }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        guard ip & mask == ip else {
            throw ParseError(description: "invalid service CIDR \"\(cidr)\": \(Self.format(ip)) is not the start of a /\(length) (try \(Self.format(ip & mask))/\(length))")
        }
        self.init(base: ip, prefixLength: length)
    }

    /// How many addresses the range has.
    public var size: UInt32 { UInt32(1) << (32 - prefixLength) }

    public func contains(_ ip: UInt32) -> Bool { ip >= base && ip - base < size }

    public func address(_ offset: UInt32) -> UInt32 { base + offset }

    /// The `kubernetes` Service's address (the first in the range).
    public var kubernetesIP: String { Self.format(address(1)) }

    /// The cluster DNS Service's address (the tenth in the range).
    public var dnsIP: String { Self.format(address(10)) }

    public var description: String { "\(Self.format(base))/\(prefixLength)" }

    static func parse(_ s: String) -> UInt32? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 != nil && $0! < 256 }) else { return nil }
        return parts.reduce(0) { $0 << 8 | ($1 ?? 0) }
    }

    static func format(_ ip: UInt32) -> String { "\(ip >> 24).\(ip >> 16 & 255).\(ip >> 8 & 255).\(ip & 255)" }
}
