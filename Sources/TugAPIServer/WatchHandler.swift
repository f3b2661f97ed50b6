import Foundation
import Hummingbird
import ServiceLifecycle
import NIOCore
import TugAPI
import TugAPIMachinery
import TugRegistry
import TugStorage

extension APIServer {
    /// `?watch=true`: newline-delimited JSON events over a chunked response, flushed one by one.
    ///
    /// Without a resourceVersion (or with "0") the current objects come first as ADDED; with one, every change after
    /// it, replayed from history. Events are filtered by selector, and an object that stops matching is sent as
    /// DELETED. A resourceVersion older than the history answers a single ERROR event carrying a 410 Status.
    func watch(_ request: Request, view: ObjectView, namespace: String?, query: QueryParameters) throws -> Response {
        let (labels, fields) = try selectors(query, view: view)
        var after: Int64?
        if let raw = query["resourceVersion"], !raw.isEmpty, raw != "0" {
            guard let rv = Int64(raw), rv >= 0 else { throw StatusError.badRequest("resourceVersion: Invalid value: \"\(raw)\": must be a non-negative integer") }
            after = rv
        }
        var timeout = 1800
        if let raw = query["timeoutSeconds"], !raw.isEmpty {
            guard let t = Int(raw), t >= 0 else { throw StatusError.badRequest("timeoutSeconds must be a non-negative integer") }
            timeout = t == 0 ? 1800 : t
        }
        let timeoutSeconds = timeout
        let table = TableRenderer.wanted(request.headers[.accept] ?? "")
        let contentType = table ? TableRenderer.contentType : Responses.jsonType
        let include = TableRenderer.IncludeObject(rawValue: query["includeObject"] ?? "") ?? .metadata
        let bookmarks = query.bool("allowWatchBookmarks")
        let opened = try openWatch(view, namespace: namespace, after: after)
        guard case .stream(let stream, let initial) = opened else {
            guard case .expired(let error) = opened else { throw StatusError.internalError("watch failed to open") }
            var line = JSONWriter.bytes(["type": "ERROR", "object": error.status])
            line.append(0x0A)
            return Responses.bytes(line, contentType: contentType)
        }
        let encoder = WatchEventEncoder(server: self, view: view, table: table, include: include)
        let logger = self.logger
        let registration = openStreams.register { stream.cancel() }
        let openStreams = self.openStreams
        let body = ResponseBody { writer in
            defer {
                stream.cancel()
                if let registration { openStreams.remove(registration) }
            }
            var encoder = encoder
            for object in initial where labels.matches(object.attributes.labels) && fields.matches(object.attributes.fields) {
                try await writer.write(try encoder.line("ADDED", object))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeoutSeconds))
                    stream.cancel()
                }
                for await element in stream {
                    switch element {
                    case .tooSlow:
                        logger.debug("watch closed: client too slow")
                    case .progress(let revision):
                        if bookmarks { try await writer.write(encoder.bookmark(revision)) }
                        continue
                    case .event(let event):
                        let now = event.object.attributes
                        let matchesNow = labels.matches(now.labels) && fields.matches(now.fields) && event.type != .deleted
                        let matchedBefore = event.previous.map { labels.matches($0.attributes.labels) && fields.matches($0.attributes.fields) } ?? false
                        let type: String
                        switch (matchedBefore, matchesNow, event.type) {
                        case (_, _, .deleted): type = matchedBefore ? "DELETED" : ""
                        case (false, true, _): type = "ADDED"
                        case (true, true, _): type = "MODIFIED"
                        case (true, false, _): type = "DELETED"
                        default: type = ""
                        }
                        if !type.isEmpty { try await writer.write(try encoder.line(type, event.object)) }
                        continue
                    }
                    break
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: body)
    }
}

enum OpenedWatch {
    case stream(WatchStream, [StoredObject])
    /// The requested resourceVersion is older than the history: answered in-band as an ERROR event.
    case expired(StatusError)
}

extension APIServer {
    func openWatch(_ view: ObjectView, namespace: String?, after: Int64?) throws -> OpenedWatch {
        do {
            let (stream, initial) = try store.watch(view.storage, namespace: namespace, after: after)
            return .stream(stream, initial)
        } catch {
            if error.code == 410 { return .expired(error) }
            throw error
        }
    }
}

/// Encodes one watch event line, splicing stored bytes when no conversion or table is needed.
struct WatchEventEncoder: Sendable {
    let server: APIServer
    let view: ObjectView
    let table: Bool
    let include: TableRenderer.IncludeObject
    var sentColumns = false

    init(server: APIServer, view: ObjectView, table: Bool, include: TableRenderer.IncludeObject) {
        self.server = server
        self.view = view
        self.table = table
        self.include = include
    }

    mutating func line(_ type: String, _ object: StoredObject) throws -> ByteBuffer {
        var out: [UInt8] = Array("{\"object\":".utf8)
        if table {
            let decoded = view.present(try server.store.decode(object))
            let t = TableRenderer.table(view.definition, objects: [decoded], resourceVersion: decoded.resourceVersion, include: include,
                                        now: server.store.now, columns: !sentColumns)
            sentColumns = true
            JSONWriter.write(t, into: &out)
        } else if view.converts {
            JSONWriter.write(view.present(try server.store.decode(object)), into: &out)
        } else {
            out += object.value
        }
        out += Array(",\"type\":".utf8)
        JSONWriter.writeString(type, into: &out)
        out += Array("}\n".utf8)
        return ByteBuffer(bytes: out)
    }

    func bookmark(_ revision: Int64) -> ByteBuffer {
        var line = JSONWriter.bytes(["type": "BOOKMARK", "object": ["kind": .string(view.definition.kind), "apiVersion": .string(view.definition.groupVersion),
                                                                     "metadata": ["resourceVersion": .string(String(revision))]]])
        line.append(0x0A)
        return ByteBuffer(bytes: line)
    }
}
