/// A small string map kept as one array sorted by key: what every stored version carries for selectors (labels,
/// selectable fields). As dictionaries they took over 1 KB per stored pod version (hash tables for ten fields and
/// two labels); as pairs, their entries and one header.
public struct StringPairs: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public struct Pair: Sendable, Hashable {
        public var key: String
        public var value: String
    }

    public private(set) var pairs: [Pair]

    public init(_ dictionary: [String: String] = [:]) {
        pairs = dictionary.map { Pair(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var count: Int { pairs.count }

    public subscript(key: String) -> String? {
        var lo = 0, hi = pairs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if pairs[mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        guard lo < pairs.count, pairs[lo].key == key else { return Optional<String>.none }
        return pairs[lo].value
    }
}
