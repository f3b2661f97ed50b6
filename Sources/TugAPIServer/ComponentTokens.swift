import TugAuth

/// Identities for the control-plane components that run in this process (the scheduler, the controllers): each
/// calls the API server with a token of its own, made at start-up and never written anywhere, so the server knows
/// which component a request comes from. API Priority and Fairness then classifies them as upstream does
/// (`system:kube-scheduler` and `system:kube-controller-manager` → workload-high) instead of exempting them as
/// the admin: their bursts queue in their own level and no longer crowd out node heartbeats.
public struct ComponentTokens: Sendable {
    let entries: [(token: String, user: UserInfo)]

    public init(_ users: [UserInfo]) {
        entries = users.map { (ClusterCredentials.randomHex(bytes: 32), $0) }
    }

    /// The token that authenticates as `user`; nil for a user that is not a component.
    public func token(for user: UserInfo) -> String? { entries.first { $0.user == user }?.token }

    /// The component a token belongs to (compared in constant time, as every token is).
    func user(for token: String) -> UserInfo? {
        entries.first { APIServer.constantTimeEquals(token, $0.token) }?.user
    }
}
