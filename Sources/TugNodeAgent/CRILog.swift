import Foundation
import TugAPIMachinery

/// Reading the CRI log format the container monitor writes (`<RFC 3339 nano> <stdout|stderr> <F|P> <content>`)
/// back into what `kubectl logs` shows, with its options.
struct CRILogOptions: Sendable {
    var follow = false
    var tailLines: Int? = nil
    var since: Date? = nil
    var timestamps = false
    var limitBytes: Int? = nil

    init() {}

    /// From the query the API server forwards (`follow`, `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`,
    /// `limitBytes`).
    init(query: [String: String], now: Date = Date()) {
        follow = query["follow"] == "true" || query["follow"] == "1"
        tailLines = query["tailLines"].flatMap { Int($0) }.map { max(0, $0) }
        if let seconds = query["sinceSeconds"].flatMap({ Int64($0) }) { since = now.addingTimeInterval(-Double(seconds)) }
        if let time = query["sinceTime"].flatMap(KubeTime.parse) { since = time }
        timestamps = query["timestamps"] == "true" || query["timestamps"] == "1"
        limitBytes = query["limitBytes"].flatMap { Int($0) }
    }
}

struct CRILogEntry: Equatable {
    var time: String
    var stream: String
    var partial: Bool
    var content: ArraySlice<UInt8>

    /// Parses one line (without its newline); nil for a malformed one.
    init?(_ line: ArraySlice<UInt8>) {
        var fields: [ArraySlice<UInt8>] = []
        var rest = line
        for _ in 0..<3 {
            guard let space = rest.firstIndex(of: 0x20) else { return nil }
            fields.append(rest[rest.startIndex..<space])
            rest = rest[(space + 1)...]
        }
        time = String(decoding: fields[0], as: UTF8.self)
        stream = String(decoding: fields[1], as: UTF8.self)
        partial = fields[2].first == UInt8(ascii: "P")
        content = rest
    }

    var date: Date? { KubeTime.parse(time) }
}

/// Turns log entries into output bytes: partial entries join the next one, each full entry ends with a newline,
/// `timestamps` prefixes the time of the entry's first part.
struct CRILogRenderer {
    let options: CRILogOptions
    private var pending: [UInt8] = []
    private var pendingTime: String? = nil

    init(options: CRILogOptions) {
        self.options = options
    }

    /// Whole log lines (as `kubectl logs` counts them) from a chunk of file bytes; `carry` keeps an unterminated tail.
    mutating func lines(from entries: [CRILogEntry]) -> [[UInt8]] {
        var output: [[UInt8]] = []
        for entry in entries {
            if let since = options.since, let date = entry.date, date < since, pendingTime == nil { continue }
            if pendingTime == nil { pendingTime = entry.time }
            pending += entry.content
            if !entry.partial {
                var line: [UInt8] = []
                if options.timestamps, let time = pendingTime { line += Array(time.utf8) + [0x20] }
                line += pending + [0x0A]
                output.append(line)
                pending = []
                pendingTime = nil
            }
        }
        return output
    }

    static func entries(in bytes: ArraySlice<UInt8>) -> (entries: [CRILogEntry], consumed: Int) {
        var entries: [CRILogEntry] = []
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: 0x0A) {
            if let entry = CRILogEntry(bytes[start..<newline]) { entries.append(entry) }
            start = newline + 1
        }
        return (entries, start - bytes.startIndex)
    }
}
