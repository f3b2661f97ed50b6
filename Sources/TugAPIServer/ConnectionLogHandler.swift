import Logging

/// The log of one connection's handling, less one false alarm.
///
/// Hummingbird's WebSocket-capable HTTP/1 channel logs "Error handling upgrade result" at error level whenever a
/// connection closes before its first request head arrives: NIO's upgrade handler is removed with its promise
/// unfulfilled and fails it with `ChannelError.inappropriateOperationForState`. That is every connection a client
/// opens and never uses, every one the first-request deadline or a shutdown closes, and every one answered 400 for
/// not speaking HTTP — none of them an error of the server's, and each a line any client could add to the error log.
/// Those lines go out at debug level; everything else passes unchanged.
struct ConnectionLogHandler: LogHandler {
    var base: any LogHandler

    static let closedBeforeRequest: Logger.Message = "Error handling upgrade result"

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level == .error, event.message == Self.closedBeforeRequest else {
            base.log(event: event)
            return
        }
        guard base.logLevel <= .debug else { return }
        var quiet = event
        quiet.level = .debug
        base.log(event: quiet)
    }

    /// `logger` with this filter in front of its handler.
    static func wrapping(_ logger: Logger) -> Logger {
        var wrapped = logger
        wrapped.handler = ConnectionLogHandler(base: logger.handler)
        return wrapped
    }
}
