/// Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into JSON, table-driven by
/// `TypeSchema` field numbers.
///
/// The envelope is the magic `k8s\0` followed by a `runtime.Unknown` {1 typeMeta {1 apiVersion, 2 kind}, 2 raw}.
/// The Go encoder writes zero values explicitly (`namespace:""`, `generation:0`, empty messages), so zeros are
/// treated as unset unless the field is a pointer — exactly what JSON's `omitempty` would have produced.
public enum ProtobufDecoder {
    public static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public struct Envelope: Sendable {
        public var apiVersion: String
        public var kind: String
        public var raw: [UInt8]
    }

    /// Splits the `k8s\0` + `runtime.Unknown` envelope.
    public static func envelope(_ body: [UInt8]) throws(Failure) -> Envelope {
        guard body.count >= 4, Array(body.prefix(4)) == magic else {
            throw Failure(description: "provided data does not have the protobuf magic prefix")
        }
        var reader = ProtobufReader(body[4...])
        var apiVersion = "", kind = "", raw: [UInt8] = []
        do {
            while !reader.atEnd {
                let (number, value) = try reader.next()
                switch (number, value) {
                case (1, .bytes(let typeMeta)):
                    var inner = ProtobufReader(typeMeta)
                    while !inner.atEnd {
                        let (n, v) = try inner.next()
                        if case .bytes(let b) = v, let s = String(validating: b, as: UTF8.self) {
                            if n == 1 { apiVersion = s } else if n == 2 { kind = s }
                        }
                    }
                case (2, .bytes(let b)): raw = Array(b)
                default: continue
                }
            }
        } catch {
            throw Failure(description: "malformed protobuf envelope: \(error.description)")
        }
        return Envelope(apiVersion: apiVersion, kind: kind, raw: raw)
    }

    /// Decodes one message of the given schema.
    public static func decode(_ bytes: [UInt8], schema: TypeSchema) throws(Failure) -> JSONValue {
        do {
            return try decodeMessage(bytes[...], schema: schema, path: "", depth: 0)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "malformed protobuf: \(error)")
        }
    }

    static func decodeMessage(_ bytes: ArraySlice<UInt8>, schema: TypeSchema, path: String, depth: Int) throws -> JSONValue {
        guard depth < 64 else { throw Failure(description: "protobuf message nested too deeply at \(path)") }
        var reader = ProtobufReader(bytes)
        var object: JSONObject = [:]
        while !reader.atEnd {
            let (number, value) = try reader.next()
            guard let field = schema.field(proto: number) else {
                throw Failure(description: "field number \(number) of \(schema.name) is not supported in protobuf bodies (at \(path.isEmpty ? "<root>" : path)); send JSON instead")
            }
            let fieldPath = path.isEmpty ? field.name : "\(path).\(field.name)"
            switch field.type {
            case .array(let element):
                let decoded = try decodeScalarOrMessage(value, type: element, field: field, path: fieldPath, depth: depth, inList: true)
                var list = object[field.name]?.arrayValue ?? []
                if let decoded { list.append(decoded) }
                object[field.name] = .array(list)
            case .map(let valueType):
                guard case .bytes(let entry) = value else { throw Failure(description: "map entry \(fieldPath) is not length-delimited") }
                var entryReader = ProtobufReader(entry)
                var key = ""
                var entryValue: JSONValue = zeroValue(valueType)
                while !entryReader.atEnd {
                    let (n, v) = try entryReader.next()
                    if n == 1, case .bytes(let k) = v { key = String(decoding: k, as: UTF8.self) }
                    if n == 2 { entryValue = try decodeScalarOrMessage(v, type: valueType, field: field, path: "\(fieldPath).\(key)", depth: depth, inList: true) ?? zeroValue(valueType) }
                }
                var map = object[field.name]?.objectValue ?? [:]
                map[key] = entryValue
                object[field.name] = .object(map)
            default:
                if let decoded = try decodeScalarOrMessage(value, type: field.type, field: field, path: fieldPath, depth: depth, inList: false) {
                    object[field.name] = decoded
                } else {
                    object.removeValue(forKey: field.name)
                }
            }
        }
        return .object(object)
    }

    static func zeroValue(_ type: FieldType) -> JSONValue {
        switch type {
        case .string, .bytes, .quantity: return ""
        case .int32, .int64: return 0
        case .bool: return false
        default: return .null
        }
    }

    /// Returns nil for a zero value that JSON `omitempty` would drop.
    static func decodeScalarOrMessage(_ value: ProtobufReader.Value, type: FieldType, field: Field, path: String, depth: Int, inList: Bool) throws -> JSONValue? {
        let keepZero = field.pointer || inList
        switch (type, value) {
        case (.string, .bytes(let b)):
            guard let s = String(validating: b, as: UTF8.self) else { throw Failure(description: "invalid UTF-8 in \(path)") }
            return s.isEmpty && !keepZero ? nil : .string(s)
        case (.bytes, .bytes(let b)):
            return b.isEmpty && !keepZero ? nil : .string(Base64.encode(Array(b)))
        case (.int32, .varint(let v)):
            let i = Int64(Int32(truncatingIfNeeded: v))
            return i == 0 && !keepZero ? nil : .int(i)
        case (.int64, .varint(let v)):
            let i = Int64(bitPattern: v)
            return i == 0 && !keepZero ? nil : .int(i)
        case (.bool, .varint(let v)):
            return v == 0 && !keepZero ? nil : .bool(v != 0)
        case (.double, .fixed64(let v)):
            return .double(Double(bitPattern: v))
        case (.quantity, .bytes(let b)):
            // resource.Quantity {1 string}
            var reader = ProtobufReader(b)
            var text = ""
            while !reader.atEnd { if case (1, .bytes(let s)) = try reader.next() { text = String(decoding: s, as: UTF8.self) } }
            return .string(text)
        case (.intOrString, .bytes(let b)):
            var reader = ProtobufReader(b)
            var kind: UInt64 = 0, intVal: Int64 = 0, strVal = ""
            while !reader.atEnd {
                switch try reader.next() {
                case (1, .varint(let v)): kind = v
                case (2, .varint(let v)): intVal = Int64(Int32(truncatingIfNeeded: v))
                case (3, .bytes(let s)): strVal = String(decoding: s, as: UTF8.self)
                default: break
                }
            }
            return kind == 1 ? .string(strVal) : .int(intVal)
        case (.time, .bytes(let b)), (.microTime, .bytes(let b)):
            var reader = ProtobufReader(b)
            var seconds: Int64 = 0, nanos: Int64 = 0
            var any = false
            while !reader.atEnd {
                switch try reader.next() {
                case (1, .varint(let v)): seconds = Int64(bitPattern: v); any = true
                case (2, .varint(let v)): nanos = Int64(Int32(truncatingIfNeeded: v)); any = true
                default: break
                }
            }
            // An empty Time message is Go's zero time: unset.
            guard any, seconds != 0 || nanos != 0 else { return nil }
            let date = Double(seconds) + Double(nanos) / 1e9
            if case .microTime = type { return .string(KubeTime.formatMicro(.init(timeIntervalSince1970: date))) }
            return .string(KubeTime.format(.init(timeIntervalSince1970: date)))
        case (.object(let schema), .bytes(let b)):
            let decoded = try decodeMessage(b, schema: schema, path: path, depth: depth + 1)
            // Go writes empty nested structs (non-pointer) explicitly; an empty one is unset unless it is a pointer.
            if decoded.isEmptyCollection && !keepZero { return nil }
            return decoded
        case (.any, .bytes(let b)):
            // runtime.RawExtension {1 raw}: JSON bytes.
            var reader = ProtobufReader(b)
            var raw: ArraySlice<UInt8> = []
            while !reader.atEnd { if case (1, .bytes(let r)) = try reader.next() { raw = r } }
            if raw.isEmpty { return nil }
            do { return try JSONParser.parseValue(raw) } catch { throw Failure(description: "invalid embedded JSON at \(path): \(error)") }
        default:
            throw Failure(description: "unexpected protobuf wire type for \(path) (\(type.jsonType))")
        }
    }
}
