import Synchronization

/// A small string map: what every stored version carries for selectors (labels, selectable fields).
///
/// The values are one array; the keys, sorted, are an array shared by every map with the same keys (every pod has
/// the same selectable fields, and a Deployment's pods the same label keys). As dictionaries these maps took over
/// 1 KB per stored pod; as arrays of key-value pairs 32 bytes a pair; with the keys shared, 16 bytes a value.
public struct StringPairs: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    private let keys: [String]
    private let values: [String]

    public init(_ dictionary: [String: String] = [:]) {
        let sorted = dictionary.sorted { $0.key < $1.key }
        keys = Self.shared(sorted.map(\.key))
        values = sorted.map(\.value)
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public var isEmpty: Bool { values.isEmpty }
    public var count: Int { values.count }

    public subscript(key: String) -> String? {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < keys.count && keys[lo] == key ? values[lo] : nil
    }

    /// Key sets seen, each kept once, for as long as the process runs. Bounded in count and in size: past
    /// `sharedCapacity` sets, and for a set of more than `sharedKeyLimit` keys or `sharedByteLimit` bytes of keys,
    /// keys are kept per map, so objects with many or long label keys (created and deleted) cannot pin memory here.
    static let sharedCapacity = 4096
    static let sharedKeyLimit = 24
    static let sharedByteLimit = 768
    private static let keySets = Mutex<Set<[String]>>([])

    /// Whether a key set is small enough to be kept in the shared table.
    static func shareable(_ keys: [String]) -> Bool {
        !keys.isEmpty && keys.count <= sharedKeyLimit && keys.reduce(0, { $0 + $1.utf8.count }) <= sharedByteLimit
    }

    private static func shared(_ keys: [String]) -> [String] {
        guard shareable(keys) else { return keys }
        return keySets.withLock { sets in
            if let existing = sets.firstIndex(of: keys) { return sets[existing] }
            if sets.count < sharedCapacity { sets.insert(keys) }
            return keys
        }
    }
}
