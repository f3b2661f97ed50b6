import Foundation
import Testing
@testable import TugControllers

@Suite struct CronScheduleTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    static func next(_ schedule: String, after: String, zone: TimeZone = utc) throws -> String? {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        return try CronSchedule(schedule).next(after: date(after), in: zone).map { formatter.string(from: $0) }
    }

    @Test(arguments: [
        ("* * * * *", "2026-01-01T10:00:30Z", "2026-01-01T10:01:00Z"),
        ("*/15 * * * *", "2026-01-01T10:01:00Z", "2026-01-01T10:15:00Z"),
        ("0 9-17/4 * * *", "2026-01-01T10:00:00Z", "2026-01-01T13:00:00Z"),
        ("30 2 1 * *", "2026-01-05T00:00:00Z", "2026-02-01T02:30:00Z"),
        ("0 0 * * mon", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z"),  // 2026-01-01 is a Thursday
        ("0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),  // both day fields: either matches (Fri the 2nd)
        ("0 0 29 feb *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("@hourly", "2026-01-01T10:59:59Z", "2026-01-01T11:00:00Z"),
        ("@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"),
        ("0 12 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T12:00:00Z"),  // 7 is Sunday too
    ])
    func nextTimes(schedule: String, after: String, expected: String) throws {
        #expect(try Self.next(schedule, after: after) == expected)
    }

    @Test func timeZonesShiftTheSchedule() throws {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // 09:00 in Berlin in January is 08:00 UTC.
        let next = try CronSchedule("0 9 * * *").next(after: Self.date("2026-01-01T00:00:00Z"), in: berlin)
        #expect(next == Self.date("2026-01-01T08:00:00Z"))
    }

    @Test(arguments: ["* * * *", "60 * * * *", "* * * 13 *", "5-1 * * * *", "*/0 * * * *", "x * * * *", "TZ=UTC * * * * *"])
    func invalidSchedulesAreRejected(_ schedule: String) {
        #expect(throws: CronSchedule.ParseError.self) { try CronSchedule(schedule) }
    }
}
