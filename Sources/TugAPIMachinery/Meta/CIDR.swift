#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/16`, `fd00::/64`), as NetworkPolicy ipBlocks name them.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The address bytes (4 or 16), as written (host bits may be set).
    public let address: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), String(length) == parts[1] else { return nil }
        let host = String(parts[0])
        if host.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, host, &raw) == 1, (0...128).contains(length) else { return nil }
            address = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, host, &raw) == 1, (0...32).contains(length) else { return nil }
            address = withUnsafeBytes(of: &raw) { Array($0) }
        }
        prefixLength = length
    }

    public var isIPv4: Bool { address.count == 4 }

    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        var bytes = address
        _ = inet_ntop(isIPv4 ? AF_INET : AF_INET6, &bytes, &text, socklen_t(text.count))
        return "\(String(cString: text))/\(prefixLength)"
    }

    /// Whether `other` lies inside this network (same family, prefix at least as long, same leading bits).
    public func contains(_ other: CIDR) -> Bool {
        guard other.address.count == address.count, other.prefixLength >= prefixLength else { return false }
        for bit in 0..<prefixLength {
            let mask = UInt8(0x80) >> UInt8(bit % 8)
            if address[bit / 8] & mask != other.address[bit / 8] & mask { return false }
        }
        return true
    }
}
