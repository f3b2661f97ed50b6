/// `resource.Quantity`: parsing and comparison of `100m`, `1.5Gi`, `2e3`, `512Mi`.
public struct Quantity: Sendable, Hashable, Comparable {
    /// The value in milli-units, saturating at Int64 bounds.
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
