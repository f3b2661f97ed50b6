/// `resource.Quantity`: parsing and comparison of `100m`, `1.5Gi`, `2e3`, `512Mi`.
public struct Quantity: Sendable, Hashable, Comparable {
    /// The value in milli-units. Convert to integers only through `value`, `milliUnits` or `saturating(_:)`.
    public var milliValue: Double

    public static func < (a: Quantity, b: Quantity) -> Bool { a.milliValue < b.milliValue }

    static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1048576), ("Gi", 1073741824), ("Ti", 1099511627776), ("Pi", 1125899906842624), ("Ei", 1152921504606846976),
        ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
    ]

    public static func parse(_ text: String) -> Quantity? {
        guard !text.isEmpty, text.utf8.count < 128 else { return nil }
        var number = Substring(text)
        var multiplier = 1.0
        for (suffix, value) in suffixes where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            multiplier = value
            break
        }
        if multiplier == 1.0, let e = number.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let mantissa = Double(number[..<e]), let exponent = Int(number[number.index(after: e)...]), abs(exponent) < 300 else { return nil }
            return Quantity(milliValue: mantissa * pow10(exponent) * 1000)
        }
        guard let first = number.first, first.isNumber || first == "+" || first == "-" || first == ".",
              number.allSatisfy({ $0.isNumber || $0 == "." || $0 == "+" || $0 == "-" }),
              let value = Double(number) else { return nil }
        return Quantity(milliValue: value * multiplier * 1000)
    }

    static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(e) { r *= 10 }
        return e < 0 ? 1 / r : r
    }
}

extension Quantity {
    /// Whole units rounded up, as upstream `Quantity.Value()`; saturates at Int64's bounds instead of trapping.
    public var value: Int64 { Quantity.saturating((milliValue / 1000).rounded(.up)) }

    /// Milli-units rounded up, as upstream `Quantity.MilliValue()`; saturates at Int64's bounds.
    public var milliUnits: Int64 { Quantity.saturating(milliValue.rounded(.up)) }

    public var isZero: Bool { milliValue == 0 }

    /// `x` as an Int64, clamped to its range (NaN is 0). Every conversion of a user-supplied quantity goes through
    /// here: `Int64(Double)` traps outside the range, and a pod spec can say `cpu: 1e200`.
    public static func saturating(_ x: Double) -> Int64 {
        if x.isNaN { return 0 }
        if x >= 9_223_372_036_854_775_808.0 { return .max }
        if x < -9_223_372_036_854_775_808.0 { return .min }
        return Int64(x)
    }
}

extension Int64 {
    /// `self + other`, clamped to Int64's range: sums of quantities (a node's requested resources) never trap.
    public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self * other`, clamped to Int64's range.
    public func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }

    /// `self - other`, clamped to Int64's range.
    public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }
}
