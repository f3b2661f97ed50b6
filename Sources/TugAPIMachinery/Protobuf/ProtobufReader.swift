/// A bounds-checked reader of the protobuf wire format (varints, length-delimited fields, fixed32/64).
struct ProtobufReader {
    enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed64(UInt64)
        case fixed32(UInt32)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { bytes.isEmpty }

    mutating func readVarint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw Failure(description: "varint overflow") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw Failure(description: "truncated varint")
    }

    /// Reads one field: its number and value.
    mutating func next() throws(Failure) -> (Int, Value) {
        let key = try readVarint()
        let number = Int(truncatingIfNeeded: key >> 3)
        guard number > 0, number < 1 << 29 else { throw Failure(description: "invalid field number \(number)") }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else { throw Failure(description: "unsupported wire type \(key & 7) for field \(number)") }
        switch wire {
        case .varint:
            return (number, .varint(try readVarint()))
        case .lengthDelimited:
            let length = try readVarint()
            guard length <= UInt64(bytes.count) else { throw Failure(description: "field \(number) length \(length) exceeds the message") }
            let value = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (number, .bytes(value))
        case .fixed64:
            guard bytes.count >= 8 else { throw Failure(description: "truncated fixed64") }
            var v: UInt64 = 0
            for (i, b) in bytes.prefix(8).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
            bytes = bytes.dropFirst(8)
            return (number, .fixed64(v))
        case .fixed32:
            guard bytes.count >= 4 else { throw Failure(description: "truncated fixed32") }
            var v: UInt32 = 0
            for (i, b) in bytes.prefix(4).enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
            bytes = bytes.dropFirst(4)
            return (number, .fixed32(v))
        }
    }
}
