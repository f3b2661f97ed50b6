import Hummingbird
import HTTPTypes
import NIOCore
import TugStorage

/// A JSON LIST response streamed from the stored bytes: the items go out in slices of about 64 KiB as the client
/// takes them, so a LIST of 150,000 pods never holds a second, contiguous copy of the whole list (the stored values
/// are shared with the store; only the slice being written is copied).
enum ListBody {
    static let slice = 64 << 10

    /// `head` + items joined by commas + `tail`; `convert` re-renders an item (a view served in another version),
    /// nil writes the stored bytes as they are (and the length is known up front).
    static func response(head: [UInt8], items: [StoredObject], tail: [UInt8], convert: (@Sendable (StoredObject) throws -> [UInt8])?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Responses.jsonType
        let length = convert == nil ? head.count + tail.count + items.reduce(max(0, items.count - 1)) { $0 + $1.value.count } : nil
        let body = ResponseBody(contentLength: length) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(slice + 4096)
            buffer.writeBytes(head)
            for (i, item) in items.enumerated() {
                if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                if let convert { buffer.writeBytes(try convert(item)) } else { buffer.writeBytes(item.value) }
                if buffer.readableBytes >= slice {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            buffer.writeBytes(tail)
            try await writer.write(buffer)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
