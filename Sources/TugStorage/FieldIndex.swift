/// Keys by the value of chosen selectable fields (`spec.nodeName`, …): a LIST selecting one value reads only the
/// objects that have it. Only non-empty values are indexed: a selector on "" (unset) matches objects that lack the
/// field too, so it is answered by a scan, and the many objects without the field cost nothing here.
struct FieldIndex {
    struct Entry: Hashable {
        var field: String
        var value: String
    }

    let fields: Set<String>
    private var keys: [Entry: Set<String>] = [:]

    init(fields: Set<String>) {
        self.fields = fields
    }

    /// Whether a lookup of `value` in `field` can be answered here.
    func covers(_ field: String, value: String = "-") -> Bool { !value.isEmpty && fields.contains(field) }

    mutating func insert(_ object: StoredObject) {
        for field in fields {
            guard let value = object.attributes.fields[field], !value.isEmpty else { continue }
            keys[Entry(field: field, value: value), default: []].insert(object.key)
        }
    }

    mutating func remove(_ object: StoredObject) {
        for field in fields {
            guard let value = object.attributes.fields[field], !value.isEmpty else { continue }
            let entry = Entry(field: field, value: value)
            keys[entry]?.remove(object.key)
            if keys[entry]?.isEmpty == true { keys[entry] = nil }
        }
    }

    /// Replaces `old` (if any) with `new`; nothing moves when the indexed values are unchanged.
    mutating func update(from old: StoredObject?, to new: StoredObject) {
        if let old, fields.allSatisfy({ old.attributes.fields[$0] == new.attributes.fields[$0] }) { return }
        if let old { remove(old) }
        insert(new)
    }

    mutating func removeAll() { keys = [:] }

    func keys(_ field: String, _ value: String) -> Set<String> { keys[Entry(field: field, value: value)] ?? [] }
}
