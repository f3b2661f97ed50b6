import Hummingbird
import HTTPTypes
import NIOCore
import TugAPIMachinery

/// Response builders: JSON bodies, raw pre-encoded JSON and Status errors.
enum Responses {
    static let jsonType = "application/json"

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, contentType: String = jsonType, headers extra: [(HTTPField.Name, String)] = []) -> Response {
        bytes(JSONWriter.bytes(value), status: status, contentType: contentType, headers: extra)
    }

    static func bytes(_ body: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = jsonType, headers extra: [(HTTPField.Name, String)] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        for (name, value) in extra { headers.append(HTTPField(name: name, value: value)) }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        bytes(Array(text.utf8), status: status, contentType: "text/plain; charset=utf-8")
    }

    static func error(_ error: StatusError) -> Response {
        json(error.status, status: HTTPResponse.Status(code: error.code))
    }

    static func warnings(_ warnings: [String]) -> [(HTTPField.Name, String)] {
        guard let name = HTTPField.Name("Warning") else { return [] }
        return warnings.map { (name, "299 - \"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"") }
    }
}
