import Logging
import Synchronization
import Testing
@testable import TugAPIServer

/// Keeps what is logged, as level and message.
struct RecordingLogHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        sink.lines.withLock { $0.append((event.level, event.message.description)) }
    }
}

final class LogLines: Sendable {
    let lines = Mutex<[(Logger.Level, String)]>([])
    var all: [String] { lines.withLock { $0.map { "\($0.0) \($0.1)" } } }
}

@Suite struct ConnectionLogHandlerTests {
    func logger(level: Logger.Level, into sink: LogLines) -> Logger {
        var base = Logger(label: "test") { _ in RecordingLogHandler(sink: sink, logLevel: level) }
        base.logLevel = level
        return ConnectionLogHandler.wrapping(base)
    }

    @Test func aConnectionClosedBeforeItsFirstRequestIsNotAnError() {
        let sink = LogLines()
        let logger = logger(level: .info, into: sink)
        logger.error("Error handling upgrade result", metadata: ["error.type": "Inappropriate operation for state"])
        #expect(sink.all.isEmpty)
    }

    @Test func atDebugItIsKeptAsDebug() {
        let sink = LogLines()
        let logger = logger(level: .debug, into: sink)
        logger.error("Error handling upgrade result")
        #expect(sink.all == ["debug Error handling upgrade result"])
    }

    @Test func everyOtherLinePassesUnchanged() {
        let sink = LogLines()
        let logger = logger(level: .info, into: sink)
        logger.error("request failed")
        logger.info("Error handling upgrade result")
        logger.debug("not shown at info")
        #expect(sink.all == ["error request failed", "info Error handling upgrade result"])
    }
}
