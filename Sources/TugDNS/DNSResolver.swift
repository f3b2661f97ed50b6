import TugDNSWire
import Synchronization

/// Answers queries: names of the cluster domain (and the reverse names of its addresses) from the current
/// ClusterZone, authoritatively; everything else is handed to the forwarder (the host's resolvers), or answered
/// NXDOMAIN when there is none. Synchronous for zone answers, so the UDP path never leaves its event loop.
public final class DNSResolver: Sendable {
    public enum Resolution: Sendable {
        case response([UInt8])
        /// Ask the host's resolvers; `failure` is the SERVFAIL to send if they do not answer.
        case forward(query: [UInt8], failure: [UInt8])
        case drop
    }

    private let zone = Mutex<ClusterZone?>(nil)
    public let forwarder: Forwarder?
    /// The EDNS payload size this server advertises (the DNS flag day's 1232 bytes).
    static let ednsPayloadSize: UInt16 = 1232

    public init(forwarder: Forwarder?) {
        self.forwarder = forwarder
    }

    /// Serves `zone` from now on (until the first one, cluster names get SERVFAIL: the caches are still filling).
    public func update(_ zone: ClusterZone) { self.zone.withLock { $0 = zone } }

    /// The response to the query in `bytes` for a transport that carries at most `limit` bytes (nil: no limit,
    /// TCP; a UDP response over the requester's size is sent truncated, so it retries over TCP).
    public func resolve(_ bytes: [UInt8], udp: Bool) -> Resolution {
        let query: DNSMessage
        do {
            query = try DNSMessage(parsing: bytes)
        } catch {
            guard bytes.count >= 2 else { return .drop }
            var failure = DNSMessage(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
            failure.isResponse = true
            failure.responseCode = .formatError
            return .response(failure.encoded())
        }
        guard !query.isResponse else { return .drop }
        var response = DNSMessage(id: query.id, question: query.question)
        response.isResponse = true
        response.opcode = query.opcode
        response.recursionDesired = query.recursionDesired
        response.recursionAvailable = true
        response.ednsPayloadSize = query.ednsPayloadSize == nil ? nil : Self.ednsPayloadSize
        guard query.opcode == 0 else {
            response.responseCode = .notImplemented
            return .response(response.encoded())
        }
        guard let question = query.question, question.klass == 1 || question.klass == 255 else {
            response.responseCode = query.question == nil ? .formatError : .refused
            return .response(response.encoded())
        }
        guard let zone = zone.withLock({ $0 }) else {
            response.responseCode = .serverFailure
            return .response(response.encoded())
        }
        switch zone.answer(question) {
        case .records(let answers, let additional):
            response.authoritative = true
            response.answers = answers
            response.additional = additional
        case .noData:
            response.authoritative = true
            response.authority = [zone.soa]
        case .nameError:
            response.authoritative = true
            response.responseCode = .nameError
            response.authority = [zone.soa]
        case .notInZone:
            guard forwarder != nil else {
                response.responseCode = .nameError
                return .response(response.encoded())
            }
            response.responseCode = .serverFailure
            return .forward(query: bytes, failure: response.encoded())
        }
        let encoded = response.encoded()
        let limit = Int(query.ednsPayloadSize ?? 512)
        return .response(udp && encoded.count > limit ? response.truncatedForUDP().encoded() : encoded)
    }
}
