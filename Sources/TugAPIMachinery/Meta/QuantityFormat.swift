/// Quantities printed as upstream's canonical `Quantity.String()`: binary amounts with the largest exact
/// `Ki`…`Ei` suffix, decimal ones with `k`…`E` or as milli-units (`1500m`), whole numbers plain.
extension Quantity {
    /// Whether `text` is in binary-SI form (`512Mi`): sums keep the form of what they add up.
    public static func isBinary(_ text: String) -> Bool {
        ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].contains { text.hasSuffix($0) }
    }

    public func formatted(binary: Bool) -> String {
        let milli = milliValue.rounded(.up)
        guard milli.magnitude < 9.2e18 else { return binary ? "8Ei" : "9E" }
        let millis = Int64(milli)
        guard millis % 1000 == 0 else { return "\(millis)m" }
        let units = millis / 1000
        if units == 0 { return "0" }
        if binary {
            for (suffix, exponent) in [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)] {
                let scale = Int64(1) << exponent
                if units % scale == 0 { return "\(units / scale)\(suffix)" }
            }
            return "\(units)"
        }
        var scale: Int64 = 1_000_000_000_000_000_000
        for suffix in ["E", "P", "T", "G", "M", "k"] {
            if units % scale == 0 { return "\(units / scale)\(suffix)" }
            scale /= 1000
        }
        return "\(units)"
    }
}

extension Quantity {
    public init(milli: Double) {
        self.init(milliValue: milli)
    }
}
