/// The members of a JSON object, kept sorted by key in one array.
///
/// A cluster holds every object decoded in its informers: with a hash table per JSON object, a pod's tree took
/// about 11 KB for its 2 KB of JSON (power-of-two buckets at most three-quarters full, a header each). Here an
/// object costs its members and one header, lookups are a binary search over a handful of keys, iteration is in
/// key order (the writer's canonical order, so encoding sorts nothing), and building from sorted input (our own
/// encodings, which the parser reads back most) appends.
///
/// It reads like the `[String: JSONValue]` it replaced, for what the tree uses of one: subscripts by key (with and
/// without a default), `keys`, `values`, `removeValue(forKey:)`, `mapValues`, `filter`; iteration yields
/// `(key:, value:)` pairs.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)
    public typealias Index = Int

    private var members: [Element]

    public init() { members = [] }

    /// Members from any order; of repeated keys the last wins, as a dictionary built from them would keep.
    public init(_ elements: some Sequence<(String, JSONValue)>) {
        var members = elements.map { (key: $0.0, value: $0.1) }
        if !Self.isStrictlySorted(members) { Self.sortKeepingLast(&members) }
        self.members = members
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// Members already in strictly increasing key order (the parser checks, then hands them over).
    init(sortedMembers: [Element]) {
        members = sortedMembers
    }

    static func isStrictlySorted(_ members: [Element]) -> Bool {
        var i = 1
        while i < members.count {
            if !(members[i - 1].key < members[i].key) { return false }
            i += 1
        }
        return true
    }

    /// Sorts by key (stably) and keeps the last of each repeated key; returns the repeated keys.
    @discardableResult
    static func sortKeepingLast(_ members: inout [Element]) -> [String] {
        var indexed = members.enumerated().map { ($0.offset, $0.element) }
        indexed.sort { $0.1.key != $1.1.key ? $0.1.key < $1.1.key : $0.0 < $1.0 }
        var out: [Element] = []
        out.reserveCapacity(indexed.count)
        var repeated: [String] = []
        for (_, member) in indexed {
            if let last = out.last, last.key == member.key {
                out[out.count - 1] = member
                repeated.append(member.key)
            } else {
                out.append(member)
            }
        }
        members = out
        return repeated
    }

    // MARK: Collection

    public var startIndex: Int { 0 }
    public var endIndex: Int { members.count }
    public subscript(position: Int) -> Element { members[position] }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    // MARK: Dictionary-like access

    /// Where `key` is, or where it would be inserted.
    private func search(_ key: String) -> (index: Int, found: Bool) {
        // Appends in key order are the common build: check the end first.
        if let last = members.last {
            if last.key < key { return (members.count, false) }
            if last.key == key { return (members.count - 1, true) }
        } else {
            return (0, false)
        }
        var lo = 0, hi = members.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if members[mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        return (lo, members[lo].key == key)
    }

    public subscript(key: String) -> JSONValue? {
        get {
            let (i, found) = search(key)
            // Spelled out: `found ? value : nil` would turn nil into JSONValue.null (a nil literal) and return it.
            guard found else { return Optional<JSONValue>.none }
            return members[i].value
        }
        set {
            let (i, found) = search(key)
            switch (found, newValue) {
            case (true, let value?): members[i].value = value
            case (true, nil): members.remove(at: i)
            case (false, let value?): members.insert((key, value), at: i)
            case (false, nil): break
            }
        }
    }

    public subscript(key: String, default defaultValue: @autoclosure () -> JSONValue) -> JSONValue {
        get {
            guard let value = self[key] else { return defaultValue() }
            return value
        }
        _modify {
            var (i, found) = search(key)
            if !found {
                members.insert((key, defaultValue()), at: i)
                found = true
            }
            yield &members[i].value
        }
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        let (i, found) = search(key)
        guard found else { return Optional<JSONValue>.none }
        return members.remove(at: i).value
    }

    public mutating func reserveCapacity(_ n: Int) { members.reserveCapacity(n) }

    public var keys: LazyMapCollection<[Element], String> { members.lazy.map(\.key) }
    public var values: LazyMapCollection<[Element], JSONValue> { members.lazy.map(\.value) }

    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        JSONObject(sortedMembers: try members.map { (key: $0.key, value: try transform($0.value)) })
    }

    public func filter(_ isIncluded: (Element) throws -> Bool) rethrows -> JSONObject {
        JSONObject(sortedMembers: try members.filter(isIncluded))
    }

    public mutating func merge(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows {
        for (key, value) in other {
            if let current = self[key] { self[key] = try combine(current, value) } else { self[key] = value }
        }
    }

    // MARK: Hashable

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for i in a.members.indices where a.members[i].key != b.members[i].key || a.members[i].value != b.members[i].value {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for member in members {
            hasher.combine(member.key)
            hasher.combine(member.value)
        }
    }
}
