/// Keys by the value of chosen selectable fields (`spec.nodeName`, …): a LIST selecting one value reads only the
/// objects that have it. Absent fields index as "" (a selector `f=` matches them, as upstream).
struct FieldIndex {
    let fields: Set<String>
    private var keys: [String: [String: Set<String>]] = [:]

    init(fields: Set<String>) {
        self.fields = fields
    }

    func covers(_ field: String) -> Bool { fields.contains(field) }

    mutating func insert(_ object: StoredObject) {
        for field in fields {
            keys[field, default: [:]][object.attributes.fields[field] ?? "", default: []].insert(object.key)
        }
    }

    mutating func remove(_ object: StoredObject) {
        for field in fields {
            let value = object.attributes.fields[field] ?? ""
            keys[field]?[value]?.remove(object.key)
            if keys[field]?[value]?.isEmpty == true { keys[field]?[value] = nil }
        }
    }

    /// Replaces `old` (if any) with `new`; nothing moves when the indexed values are unchanged.
    mutating func update(from old: StoredObject?, to new: StoredObject) {
        if let old, fields.allSatisfy({ old.attributes.fields[$0] == new.attributes.fields[$0] }) { return }
        if let old { remove(old) }
        insert(new)
    }

    mutating func removeAll() { keys = [:] }

    func keys(_ field: String, _ value: String) -> Set<String> { keys[field]?[value] ?? [] }
}
