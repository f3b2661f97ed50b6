/// Keys by the value of chosen selectable fields (`spec.nodeName`, …): a LIST selecting one value reads only the
/// objects that have it. Only non-empty values are indexed: a selector on "" (unset) matches objects that lack the
/// field too, so it is answered by a scan, and the many objects without the field cost nothing here.
struct FieldIndex {
    struct Entry: Hashable {
        var field: String
        var value: String
    }

    /// The keys with one value. Most values belong to one object (an event's `involvedObject.uid`), and a set of
    /// one key is a hash table of its own: 150,000 of them were 30 MB.
    enum Keys {
        case one(String)
        case many(Set<String>)

        var all: Set<String> {
            switch self {
            case .one(let key): [key]
            case .many(let keys): keys
            }
        }

        mutating func insert(_ key: String) {
            switch self {
            case .one(let only):
                if only != key { self = .many([only, key]) }
            case .many(var keys):
                self = .one(key)  // lets go of the set, so inserting copies nothing
                keys.insert(key)
                self = .many(keys)
            }
        }

        /// Removes `key`; returns whether any key is left.
        mutating func remove(_ key: String) -> Bool {
            switch self {
            case .one(let only):
                return only != key
            case .many(var keys):
                self = .one(key)
                keys.remove(key)
                if keys.count == 1, let last = keys.first { self = .one(last) } else { self = .many(keys) }
                return !keys.isEmpty
            }
        }
    }

    let fields: Set<String>
    private var keys: [Entry: Keys] = [:]

    init(fields: Set<String>) {
        self.fields = fields
    }

    /// Whether a lookup of `value` in `field` can be answered here.
    func covers(_ field: String, value: String = "-") -> Bool { !value.isEmpty && fields.contains(field) }

    mutating func insert(_ object: StoredObject) {
        for field in fields {
            guard let value = object.attributes.fields[field], !value.isEmpty else { continue }
            let entry = Entry(field: field, value: value)
            if keys[entry]?.insert(object.key) == nil { keys[entry] = .one(object.key) }
        }
    }

    mutating func remove(_ object: StoredObject) {
        for field in fields {
            guard let value = object.attributes.fields[field], !value.isEmpty else { continue }
            let entry = Entry(field: field, value: value)
            if keys[entry]?.remove(object.key) == false { keys[entry] = nil }
        }
    }

    /// Replaces `old` (if any) with `new`; nothing moves when the indexed values are unchanged.
    mutating func update(from old: StoredObject?, to new: StoredObject) {
        if let old, fields.allSatisfy({ old.attributes.fields[$0] == new.attributes.fields[$0] }) { return }
        if let old { remove(old) }
        insert(new)
    }

    mutating func removeAll() { keys = [:] }

    func keys(_ field: String, _ value: String) -> Set<String> { keys[Entry(field: field, value: value)]?.all ?? [] }
}
