/// The parts of a DNS message (RFC 1035) cluster DNS reads and writes: the header, one question, resource records of
/// the types it answers (A, AAAA, CNAME, PTR, SRV, SOA) and the EDNS OPT record's payload size (RFC 6891).
public struct DNSMessage: Sendable, Equatable {
    public enum RecordType: UInt16, Sendable {
        case a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, mx = 15, txt = 16, aaaa = 28, srv = 33, opt = 41, any = 255
    }

    public enum ResponseCode: UInt8, Sendable {
        case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5
    }

    public struct Question: Sendable, Equatable {
        /// Lowercased, without the trailing dot.
        public var name: String
        public var type: UInt16
        public var klass: UInt16

        public init(name: String, type: UInt16, klass: UInt16 = 1) {
            self.name = name
            self.type = type
            self.klass = klass
        }
    }

    public enum RecordData: Sendable, Hashable {
        case a([UInt8])
        case aaaa([UInt8])
        case cname(String)
        case ptr(String)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
        case soa(mname: String, rname: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)

        public var type: RecordType {
            switch self {
            case .a: .a
            case .aaaa: .aaaa
            case .cname: .cname
            case .ptr: .ptr
            case .srv: .srv
            case .soa: .soa
            }
        }
    }

    public struct Record: Sendable, Equatable {
        public var name: String
        public var ttl: UInt32
        public var data: RecordData

        public init(name: String, ttl: UInt32, data: RecordData) {
            self.name = name
            self.ttl = ttl
            self.data = data
        }
    }

    public var id: UInt16
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var responseCode: ResponseCode = .noError
    public var question: Question?
    public var answers: [Record] = []
    public var authority: [Record] = []
    public var additional: [Record] = []
    /// The requester's EDNS UDP payload size (nil: no OPT record, so 512 bytes).
    public var ednsPayloadSize: UInt16?

    public init(id: UInt16, question: Question? = nil) {
        self.id = id
        self.question = question
    }

    public struct ParseError: Error, Sendable {}

    /// Parses a message: the header, the first question, records of the types above (others are skipped) and the
    /// OPT record's payload size; names are decompressed.
    public init(parsing bytes: [UInt8]) throws(ParseError) {
        var reader = Reader(bytes: bytes)
        id = try reader.u16()
        let flags = try reader.u16()
        isResponse = flags & 0x8000 != 0
        opcode = UInt8(flags >> 11 & 0xF)
        authoritative = flags & 0x0400 != 0
        truncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        responseCode = ResponseCode(rawValue: UInt8(flags & 0xF)) ?? .serverFailure
        let counts = (try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16())
        for index in 0..<Int(counts.0) {
            let name = try reader.name()
            let q = Question(name: name, type: try reader.u16(), klass: try reader.u16())
            if index == 0 { question = q }
        }
        for index in 0..<(Int(counts.1) + Int(counts.2) + Int(counts.3)) {
            let name = try reader.name()
            let type = try reader.u16()
            let klass = try reader.u16()
            let ttl = try reader.u32()
            let length = Int(try reader.u16())
            let end = reader.offset + length
            if type == RecordType.opt.rawValue { ednsPayloadSize = max(512, klass) }
            if let data = try Self.recordData(type: type, length: length, reader: &reader) {
                let record = Record(name: name, ttl: ttl, data: data)
                if index < Int(counts.1) {
                    answers.append(record)
                } else if index < Int(counts.1) + Int(counts.2) {
                    authority.append(record)
                } else {
                    additional.append(record)
                }
            }
            guard end <= bytes.count else { throw ParseError() }
            reader.offset = end
        }
    }

    static func recordData(type: UInt16, length: Int, reader: inout Reader) throws(ParseError) -> RecordData? {
        switch RecordType(rawValue: type) {
        case .a where length == 4, .aaaa where length == 16:
            let bytes = Array(reader.bytes[reader.offset..<min(reader.bytes.count, reader.offset + length)])
            guard bytes.count == length else { throw ParseError() }
            return length == 4 ? .a(bytes) : .aaaa(bytes)
        case .cname: return .cname(try reader.name())
        case .ptr: return .ptr(try reader.name())
        case .srv: return .srv(priority: try reader.u16(), weight: try reader.u16(), port: try reader.u16(), target: try reader.name())
        case .soa:
            return .soa(mname: try reader.name(), rname: try reader.name(), serial: try reader.u32(), refresh: try reader.u32(),
                        retry: try reader.u32(), expire: try reader.u32(), minimum: try reader.u32())
        default: return nil
        }
    }

    /// The wire form. Names equal to the question's are compressed to a pointer at it; others are written whole.
    public func encoded() -> [UInt8] {
        var writer = Writer()
        writer.u16(id)
        var flags: UInt16 = UInt16(opcode & 0xF) << 11 | UInt16(responseCode.rawValue)
        if isResponse { flags |= 0x8000 }
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        writer.u16(flags)
        writer.u16(question == nil ? 0 : 1)
        writer.u16(UInt16(answers.count))
        writer.u16(UInt16(authority.count))
        writer.u16(UInt16(additional.count + (ednsPayloadSize == nil ? 0 : 1)))
        if let question {
            writer.questionName = question.name
            writer.name(question.name, compress: false)
            writer.u16(question.type)
            writer.u16(question.klass)
        }
        for record in answers + authority + additional { writer.record(record) }
        if let size = ednsPayloadSize {
            writer.bytes.append(0)
            writer.u16(RecordType.opt.rawValue)
            writer.u16(size)
            writer.u32(0)
            writer.u16(0)
        }
        return writer.bytes
    }

    /// This message with answers dropped and the TC bit set (a UDP response too large for the requester).
    public func truncatedForUDP() -> DNSMessage {
        var copy = self
        copy.answers = []
        copy.authority = []
        copy.additional = []
        copy.truncated = true
        return copy
    }
}

struct Reader {
    let bytes: [UInt8]
    var offset = 0

    mutating func u8() throws(DNSMessage.ParseError) -> UInt8 {
        guard offset < bytes.count else { throw DNSMessage.ParseError() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSMessage.ParseError) -> UInt16 { UInt16(try u8()) << 8 | UInt16(try u8()) }

    mutating func u32() throws(DNSMessage.ParseError) -> UInt32 { UInt32(try u16()) << 16 | UInt32(try u16()) }

    mutating func skip(_ count: Int) throws(DNSMessage.ParseError) {
        guard offset + count <= bytes.count else { throw DNSMessage.ParseError() }
        offset += count
    }

    /// A possibly compressed name, lowercased, without the trailing dot (the root is "").
    mutating func name() throws(DNSMessage.ParseError) -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var jumps = 0
        var length = 0
        while true {
            guard position < bytes.count else { throw DNSMessage.ParseError() }
            let count = Int(bytes[position])
            if count & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count, jumps < 32 else { throw DNSMessage.ParseError() }
                if !jumped { offset = position + 2 }
                position = (count & 0x3F) << 8 | Int(bytes[position + 1])
                jumped = true
                jumps += 1
                continue
            }
            guard count & 0xC0 == 0 else { throw DNSMessage.ParseError() }
            position += 1
            if count == 0 { break }
            guard position + count <= bytes.count else { throw DNSMessage.ParseError() }
            length += count + 1
            guard length <= 255 else { throw DNSMessage.ParseError() }
            // A label that is not UTF-8 is refused rather than repaired: each bad byte would become three (U+FFFD),
            // and the name, re-encoded in an answer, could pass 255 bytes (the fuzzer's find).
            let folded = bytes[position..<position + count].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            guard let label = String(validating: folded, as: UTF8.self) else { throw DNSMessage.ParseError() }
            labels.append(label)
            position += count
        }
        if !jumped { offset = position }
        return labels.joined(separator: ".")
    }
}

struct Writer {
    var bytes: [UInt8] = []
    var questionName: String?

    init() { bytes.reserveCapacity(512) }

    mutating func u16(_ value: UInt16) { bytes.append(UInt8(value >> 8)); bytes.append(UInt8(value & 0xFF)) }

    mutating func u32(_ value: UInt32) { u16(UInt16(value >> 16)); u16(UInt16(value & 0xFFFF)) }

    mutating func name(_ name: String, compress: Bool = true) {
        if compress, name == questionName {
            u16(0xC00C)
            return
        }
        for label in name.split(separator: ".") {
            let utf8 = Array(label.utf8.prefix(63))
            bytes.append(UInt8(utf8.count))
            bytes.append(contentsOf: utf8)
        }
        bytes.append(0)
    }

    mutating func record(_ record: DNSMessage.Record) {
        name(record.name)
        u16(record.data.type.rawValue)
        u16(1)
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch record.data {
        case .a(let address), .aaaa(let address): bytes.append(contentsOf: address)
        case .cname(let target), .ptr(let target): name(target)
        case .srv(let priority, let weight, let port, let target):
            u16(priority)
            u16(weight)
            u16(port)
            name(target, compress: false)
        case .soa(let mname, let rname, let serial, let refresh, let retry, let expire, let minimum):
            name(mname)
            name(rname)
            for value in [serial, refresh, retry, expire, minimum] { u32(value) }
        }
        let length = bytes.count - lengthAt - 2
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }
}
