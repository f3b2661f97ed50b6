import Crypto

/// A content digest, `sha256:<64 lowercase hex>`: the name of every blob (layers, configs, manifests).
public struct Digest: Sendable, Hashable, CustomStringConvertible, Comparable {
    public let hex: String

    public init?(_ text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = String(text.dropFirst("sha256:".count))
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        self.hex = hex
    }

    public init(of bytes: some Collection<UInt8>) {
        hex = SHA256.hash(data: Array(bytes)).map { byte in
            let s = String(byte, radix: 16)
            return byte < 16 ? "0" + s : s
        }.joined()
    }

    /// From 64 lowercase hex characters already computed (a streaming hash).
    init(hex: String) {
        self.hex = hex
    }

    public var description: String { "sha256:\(hex)" }
    public static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }
}
