/// How values are kept at rest (kube-apiserver's storage transformers): the store keeps values as the API wrote them
/// in memory, and a transformer changes them on the way to disk and back (encryption of Secrets). `stale` says a
/// value was read with something other than the transformer's current way of writing (an older key): the store
/// writes it again.
public protocol ValueTransformer: Sendable {
    func toStorage(_ value: [UInt8], key: String) throws -> [UInt8]
    func fromStorage(_ stored: [UInt8], key: String) throws -> (value: [UInt8], stale: Bool)
}
