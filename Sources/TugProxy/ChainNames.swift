/// Names of the proxy's iptables chains. Every name starts with the instance's prefix (`TUG-` and six hex digits of
/// its data dir), so two agents on one machine (tests do this) keep apart and `tug reset` removes exactly its own.
/// Per-Service chains carry a 48-bit hash of the Service port (and endpoint), as kube-proxy's KUBE-SVC-… do; all
/// fit iptables' 28-character limit.
public struct ChainNames: Sendable, Hashable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    /// The prefix for an agent whose state lives in `root`.
    public init(root: String) { self.init(prefix: "TUG-" + String(Self.hash(root), radix: 16, uppercase: true).suffix(6).leftPadded(6)) }

    public var services: String { "\(prefix)-SERVICES" }
    public var nodePorts: String { "\(prefix)-NODEPORTS" }
    public var postrouting: String { "\(prefix)-POSTROUTING" }
    public var markMasq: String { "\(prefix)-MARK-MASQ" }
    public var external: String { "\(prefix)-EXTERNAL" }
    public var forward: String { "\(prefix)-FORWARD" }

    public func service(_ port: ServicePort) -> String { "\(prefix)-SVC-\(Self.tag(port.id + "/" + port.proto))" }
    public func externalService(_ port: ServicePort) -> String { "\(prefix)-EXT-\(Self.tag(port.id + "/" + port.proto))" }
    public func endpoint(_ port: ServicePort, _ endpoint: ServicePort.Endpoint) -> String {
        "\(prefix)-SEP-\(Self.tag(port.id + "/" + port.proto + "/" + endpoint.description))"
    }

    public func owns(_ chain: some StringProtocol) -> Bool { chain.hasPrefix(prefix + "-") }

    /// The names of the same agent's NetworkPolicy chains (`TNP-` and the same six digits): apart from the proxy's,
    /// so each syncs on its own and neither takes the other's chains for stale ones.
    public var policy: ChainNames { ChainNames(prefix: "TNP" + prefix.drop { $0 != "-" }) }

    static func tag(_ text: String) -> String {
        String(String(hash(text) & 0xFFFF_FFFF_FFFF, radix: 16, uppercase: true).leftPadded(12))
    }

    /// FNV-1a, 64 bits: stable across runs and machines (Swift's Hasher is seeded per process).
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return value
    }
}

extension StringProtocol {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: Swift.max(0, width - count)) + self }
}
