import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization
import NIOCore
import TugAPI
import TugAPIMachinery
import TugRegistry
import TugStorage

extension APIServer {
    /// `?watch=true`: newline-delimited JSON events over a chunked response, flushed one by one.
    ///
    /// Without a resourceVersion (or with "0"), or with `sendInitialEvents=true`, the current objects come first as
    /// ADDED, then (to a client that allows bookmarks) a BOOKMARK marking the end of the initial events; with a
    /// resourceVersion, every change after it, replayed from history (`ListOptions`). Events are filtered by
    /// selector, and an object that stops matching is sent as DELETED. A resourceVersion older than the history
    /// answers a single ERROR event carrying a 410 Status.
    ///
    /// A watch ends cleanly at its timeout (`timeoutSeconds`, else a random time between one and two
    /// `--min-request-timeout`s, as kube-apiserver spreads reconnects) or when the store ends it for falling behind.
    /// Its connection is closed at once when the client goes away, when a write has waited on an unread socket
    /// longer than the stall timeout, or when the store ends it while a write waits: so neither a descriptor nor
    /// the bytes in flight outlive a client that stopped reading.
    ///
    /// `flow` holds the watch's flow-control seat: it is returned once the initial events are written.
    func watch(_ request: Request, view: ObjectView, namespace: String?, query: QueryParameters, connection: (any Channel)?,
               flow: FlowRelease? = nil) async throws -> Response {
        let (labels, fields) = try selectors(query, view: view)
        let options = try ListOptions(query, watch: true)
        let timeout = try watchTimeout(query)
        let table = TableRenderer.wanted(request.headers[.accept] ?? "")
        let contentType = table ? TableRenderer.contentType : Responses.jsonType
        let include = TableRenderer.IncludeObject(rawValue: query["includeObject"] ?? "") ?? .metadata
        let bookmarks = options.allowWatchBookmarks
        let marksInitialEnd = options.marksInitialEventsEnd
        let opened = try openWatch(view, namespace: namespace, start: options.watchStart, labels: labels, fields: fields)
        guard case .stream(let stream, let initial, let startRevision) = opened else {
            guard case .expired(let error) = opened else { throw StatusError.internalError("watch failed to open") }
            var line = JSONWriter.bytes(["type": "ERROR", "object": error.status])
            line.append(0x0A)
            return Responses.bytes(line, contentType: contentType)
        }
        let encoder = WatchEventEncoder(server: self, view: view, table: table, include: include)
        let logger = self.logger
        let progress = WriteProgress()
        let closeConnection: @Sendable () -> Void = { connection?.close(promise: nil) }
        // The client left: end the stream (a waiting loop wakes) and the connection (a waiting write fails).
        var unmonitor: (@Sendable () -> Void)?
        if let channel = connection {
            unmonitor = await ConnectionMonitor.watch(channel) {
                stream.cancel()
                channel.close(promise: nil)
            }
        }
        let stopMonitoring = unmonitor
        stream.onTooSlow { if progress.isWriting { closeConnection() } }
        let registration = openStreams.register { stream.cancel() }
        let openStreams = self.openStreams
        let stallTimeout = configuration.watchStallTimeout
        let body = ResponseBody { writer in
            defer {
                flow?.release()
                stream.cancel()
                stopMonitoring?()
                if let registration { openStreams.remove(registration) }
            }
            var encoder = encoder
            // Large objects go out in slices, so only a slice of the stored bytes is copied per write.
            func send(_ line: WatchLine) async throws {
                progress.begin()
                defer { progress.end() }
                try await line.write(slicesOf: Self.writeSlice) { try await writer.write($0) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Self.watchdog(timeout: timeout, stallTimeout: stallTimeout, progress: progress,
                                            writable: { connection?.isWritable ?? true }) {
                        stream.cancel()
                    } onStall: {
                        logger.debug("watch closed: client stopped reading")
                        closeConnection()
                    }
                }
                for object in initial where labels.matches({ object.attributes.labels[$0] }) && fields.matches({ object.attributes.fields[$0] }) {
                    try await send(try encoder.line("ADDED", object))
                }
                if marksInitialEnd { try await send(encoder.bookmark(startRevision, initialEventsEnd: true)) }
                flow?.release()
                for await element in stream {
                    switch element {
                    case .tooSlow:
                        logger.debug("watch closed: client too slow")
                    case .progress(let revision):
                        if bookmarks { try await send(encoder.bookmark(revision)) }
                        continue
                    case .event(let event):
                        if let type = Self.watchEventType(event, labels: labels, fields: fields) {
                            try await send(try encoder.line(type, event.object))
                        }
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

    /// The event a selector-filtered watcher sees: an object that starts matching is ADDED, one that stops is DELETED.
    static func watchEventType(_ event: StorageEvent, labels: LabelSelector, fields: FieldSelector) -> String? {
        let now = event.object.attributes
        let matchesNow = labels.matches({ now.labels[$0] }) && fields.matches({ now.fields[$0] }) && event.type != .deleted
        let matchedBefore = event.previous.map { old in labels.matches({ old.attributes.labels[$0] }) && fields.matches({ old.attributes.fields[$0] }) } ?? false
        switch (matchedBefore, matchesNow, event.type) {
        case (_, _, .deleted): return matchedBefore ? "DELETED" : nil
        case (false, true, _): return "ADDED"
        case (true, true, _): return "MODIFIED"
        case (true, false, _): return "DELETED"
        default: return nil
        }
    }

    /// kube-apiserver's watch timeout: `timeoutSeconds` when given, else between one and two minimum request timeouts.
    func watchTimeout(_ query: QueryParameters) throws(StatusError) -> Duration {
        if let seconds = try query.integer("timeoutSeconds"), seconds > 0 {
            return .seconds(min(seconds, Self.longestWatch))
        }
        let minimum = Double(configuration.minRequestTimeoutSeconds)
        return .milliseconds(Int64(minimum * 1000 * Double.random(in: 1..<2)))
    }

    static let writeSlice = 64 << 10

    /// Longer than any client waits; a bound so that a huge `timeoutSeconds` never overflows a clock.
    static let longestWatch: Int64 = 366 * 24 * 3600

    /// Ends the watch at its timeout, and reports a write that has waited on the socket longer than `stallTimeout`.
    /// One timer per watch, waking at most every few seconds.
    ///
    /// A write returns once the connection has taken its bytes, so a client that stops reading shows either as a
    /// write that waits (the connection is full) or, when no further write comes, as a connection that stays
    /// unwritable with what it took still buffered in this process: both count as stalled.
    static func watchdog(timeout: Duration, stallTimeout: Duration, progress: WriteProgress, writable: @Sendable () -> Bool,
                         onTimeout: @Sendable () -> Void, onStall: @Sendable () -> Void) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        let tick = min(stallTimeout / 2, .seconds(5))
        var timedOut = false
        var unwritableSince: ContinuousClock.Instant?
        while true {
            let now = clock.now
            if !timedOut, now >= deadline {
                timedOut = true
                onTimeout()
            }
            if writable() { unwritableSince = nil } else if unwritableSince == nil { unwritableSince = now }
            // After the timeout a final write can still be stuck: it is checked until the body ends.
            if progress.stalled(longerThan: stallTimeout, now: now) || unwritableSince.map({ now - $0 > stallTimeout }) == true {
                onStall()
                return
            }
            try await Task.sleep(until: timedOut ? now.advanced(by: tick) : min(deadline, now.advanced(by: tick)), clock: clock)
        }
    }
}

/// Whether a watch response is waiting on a write, and since when (read by its watchdog and the store's overflow
/// callback, written by the response body).
final class WriteProgress: Sendable {
    /// Nanoseconds since `origin` when the pending write began; -1 when no write is pending.
    private let started = Atomic<Int64>(-1)
    private let origin = ContinuousClock.now

    func begin() { started.store((ContinuousClock.now - origin).nanoseconds, ordering: .relaxed) }
    func end() { started.store(-1, ordering: .relaxed) }
    var isWriting: Bool { started.load(ordering: .relaxed) >= 0 }

    func stalled(longerThan limit: Duration, now: ContinuousClock.Instant) -> Bool {
        let began = started.load(ordering: .relaxed)
        return began >= 0 && (now - origin).nanoseconds - began > limit.nanoseconds
    }
}

enum OpenedWatch {
    /// The stream, the initial objects to send first, and the revision the stream starts after.
    case stream(WatchStream, [StoredObject], Int64)
    /// The requested resourceVersion is older than the history: answered in-band as an ERROR event.
    case expired(StatusError)
}

extension APIServer {
    func openWatch(_ view: ObjectView, namespace: String?, start: ListOptions.WatchStart, labels: LabelSelector,
                   fields: FieldSelector) throws -> OpenedWatch {
        let origin: ObjectStore.WatchOrigin
        switch start {
        case .after(let revision): origin = .after(revision)
        case .now: origin = .now
        case .initialState(let atLeast):
            // The store serves the newest state; a client asking for a newer one holds a version from elsewhere.
            let current = store.backend.currentRevision
            if let atLeast, atLeast > current { throw StatusError.resourceVersionTooLarge(atLeast, current: current) }
            origin = .currentState
        }
        do {
            let opened = try store.watch(view.storage, namespace: namespace, from: origin, labels: labels, fields: fields)
            return .stream(opened.stream, opened.initial, opened.revision)
        } catch {
            if error.code == 410 { return .expired(error) }
            throw error
        }
    }
}

/// One watch line, `{"object":…,"type":"…"}` and a newline (or any other whole line, with an empty prefix), written
/// in slices of at most `size` bytes of the object: each write copies one slice of the stored bytes, not a whole
/// object of up to 1.5 MiB.
struct WatchLine {
    static let eventPrefix = Array("{\"object\":".utf8)
    var prefix = Self.eventPrefix
    let object: [UInt8]
    let suffix: [UInt8]

    func write(slicesOf size: Int, _ write: (ByteBuffer) async throws -> Void) async throws {
        var offset = 0
        repeat {
            let end = min(object.count, offset + size)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(end - offset + prefix.count + suffix.count)
            if offset == 0 { buffer.writeBytes(prefix) }
            buffer.writeBytes(object[offset..<end])
            if end == object.count { buffer.writeBytes(suffix) }
            try await write(buffer)
            offset = end
        } while offset < object.count
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

    /// One event line: the object's JSON (the stored bytes themselves, shared with the store, unless converted or
    /// rendered as a table) between the line's framing.
    mutating func line(_ type: String, _ object: StoredObject) throws -> WatchLine {
        let json: [UInt8]
        if table {
            let decoded = view.present(try server.store.decode(object))
            let t = TableRenderer.table(view.definition, objects: [decoded], resourceVersion: decoded.resourceVersion, include: include,
                                        now: server.store.now, columns: !sentColumns)
            sentColumns = true
            json = JSONWriter.bytes(t)
        } else if view.converts {
            json = JSONWriter.bytes(view.present(try server.store.decode(object)))
        } else {
            json = object.value
        }
        var suffix = Array(",\"type\":".utf8)
        JSONWriter.writeString(type, into: &suffix)
        suffix += Array("}\n".utf8)
        return WatchLine(object: json, suffix: suffix)
    }

    /// A BOOKMARK at `revision`; `initialEventsEnd` annotates it as the end of a streaming list's initial events.
    func bookmark(_ revision: Int64, initialEventsEnd: Bool = false) -> WatchLine {
        var metadata: JSONValue = ["resourceVersion": .string(String(revision))]
        if initialEventsEnd { metadata["annotations"] = [ListOptions.initialEventsEndAnnotation: "true"] }
        let line = JSONWriter.bytes(["type": "BOOKMARK", "object": ["kind": .string(view.definition.kind), "apiVersion": .string(view.definition.groupVersion),
                                                                     "metadata": metadata]])
        return WatchLine(prefix: [], object: line, suffix: [0x0A])
    }
}
