/// A runtime operation that failed, with a message a user can act on (it ends up in a pod's status).
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
