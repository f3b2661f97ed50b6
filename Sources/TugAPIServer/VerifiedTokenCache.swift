import Crypto
import Foundation
import Synchronization

/// Claims of tokens whose signature has been verified, by the SHA-256 of the token (the token itself is not kept):
/// a token's claims never change, so its ES256 verification (and deriving the public key) happens once, not on every
/// request. Expiry and the bound objects are still checked on every use. Bounded: the oldest entries go first.
final class VerifiedTokenCache: Sendable {
    private struct State {
        var claims: [[UInt8]: (claims: ServiceAccountTokens.Claims, notBefore: Date)] = [:]
        var order: [[UInt8]] = []
        var head = 0
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func claims(for token: String) -> (claims: ServiceAccountTokens.Claims, notBefore: Date)? {
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        return state.withLock { $0.claims[digest] }
    }

    func remember(_ token: String, _ claims: ServiceAccountTokens.Claims, notBefore: Date) {
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        state.withLock { state in
            guard state.claims.updateValue((claims, notBefore), forKey: digest) == nil else { return }
            if state.order.count < capacity {
                state.order.append(digest)
            } else {
                state.claims.removeValue(forKey: state.order[state.head])
                state.order[state.head] = digest
                state.head = (state.head + 1) % capacity
            }
        }
    }

    var count: Int { state.withLock { $0.claims.count } }
}
