import Crypto
import Foundation

/// The token a node joins with, k3s-style: `T1<sha256 of the CA certificate PEM>::<secret>`. The agent fetches the
/// CA from the server's public `/cacerts`, checks it against the hash, and from then on trusts only that CA; the
/// secret authenticates the agent (as `system:node:<name>`).
public struct NodeJoinToken: Sendable, Hashable, CustomStringConvertible {
    public var caHash: String
    public var secret: String

    public init(caPEM: String, secret: String) {
        caHash = Self.hash(caPEM)
        self.secret = secret
    }

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("T1"), let separator = trimmed.range(of: "::") else { return nil }
        caHash = String(trimmed[trimmed.index(trimmed.startIndex, offsetBy: 2)..<separator.lowerBound])
        secret = String(trimmed[separator.upperBound...])
        guard caHash.count == 64, !secret.isEmpty else { return nil }
    }

    public var description: String { "T1\(caHash)::\(secret)" }

    public static func hash(_ caPEM: String) -> String {
        SHA256.hash(data: Data(caPEM.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    public func trusts(caPEM: String) -> Bool { Self.hash(caPEM) == caHash }
}
