public import Foundation

/// A standard five-field cron schedule (minute hour day-of-month month day-of-week) with ranges, steps, lists,
/// month and weekday names and the @-macros, as the CronJob controller accepts (robfig/cron's standard parser).
/// When both day fields are restricted a day matches either, as in Vixie cron.
public struct CronSchedule: Sendable, Equatable {
    var minutes: Set<Int>
    var hours: Set<Int>
    var daysOfMonth: Set<Int>
    var months: Set<Int>
    var daysOfWeek: Set<Int>
    var domRestricted: Bool
    var dowRestricted: Bool

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    static let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                         "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    public init(_ text: String) throws(ParseError) {
        var spec = text.trimmingCharacters(in: .whitespaces)
        if spec.hasPrefix("TZ=") || spec.hasPrefix("CRON_TZ=") {
            throw ParseError(description: "TZ and CRON_TZ are not supported in the schedule; use spec.timeZone")
        }
        if let macro = Self.macros[spec.lowercased()] { spec = macro }
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else { throw ParseError(description: "expected exactly 5 fields, found \(fields.count): \(text)") }
        minutes = try Self.field(fields[0], 0...59, names: [])
        hours = try Self.field(fields[1], 0...23, names: [])
        daysOfMonth = try Self.field(fields[2], 1...31, names: [])
        months = try Self.field(fields[3], 1...12, names: Self.monthNames, nameBase: 1)
        var dow = try Self.field(fields[4], 0...7, names: Self.dayNames)
        if dow.remove(7) != nil { dow.insert(0) }
        daysOfWeek = dow
        domRestricted = !(fields[2].hasPrefix("*") || fields[2].hasPrefix("?"))
        dowRestricted = !(fields[4].hasPrefix("*") || fields[4].hasPrefix("?"))
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, names: [String], nameBase: Int = 0) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2 else { throw ParseError(description: "too many slashes: \(part)") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw ParseError(description: "bad step: \(part)") }
                step = s
            }
            var low = range.lowerBound, high = range.upperBound
            if pieces[0] == "*" || pieces[0] == "?" {
                // the whole range
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard bounds.count <= 2 else { throw ParseError(description: "bad range: \(part)") }
                low = try value(bounds[0], range, names: names, nameBase: nameBase)
                high = bounds.count == 2 ? try value(bounds[1], range, names: names, nameBase: nameBase) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw ParseError(description: "beginning of range (\(low)) beyond end of range (\(high)): \(part)") }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    static func value(_ text: String, _ range: ClosedRange<Int>, names: [String], nameBase: Int) throws(ParseError) -> Int {
        if let index = names.firstIndex(of: text.lowercased()) { return index + nameBase }
        guard let number = Int(text) else { throw ParseError(description: "failed to parse int from \(text)") }
        guard range.contains(number) else { throw ParseError(description: "value \(number) out of range \(range.lowerBound)-\(range.upperBound)") }
        return number
    }

    /// The first time strictly after `date` that matches, in `timeZone`; nil if none within five years.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let start = calendar.dateInterval(of: .minute, for: date)!.start.addingTimeInterval(60)
        var day = calendar.startOfDay(for: start)
        for _ in 0..<(366 * 5) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if months.contains(parts.month!), dayMatches(dom: parts.day!, dow: parts.weekday! - 1) {
                for hour in hours.sorted() {
                    for minute in minutes.sorted() {
                        guard let candidate = calendar.date(bySettingHour: hour, minute: minute, second: 0, of: day) else { continue }
                        // Skip times a DST jump moved to another hour.
                        guard calendar.component(.hour, from: candidate) == hour else { continue }
                        if candidate >= start { return candidate }
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: following)
        }
        return nil
    }

    func dayMatches(dom: Int, dow: Int) -> Bool {
        if domRestricted && dowRestricted { return daysOfMonth.contains(dom) || daysOfWeek.contains(dow) }
        return daysOfMonth.contains(dom) && daysOfWeek.contains(dow)
    }
}
