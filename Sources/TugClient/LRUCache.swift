/// A map of at most `capacity` entries that forgets the least recently used one to make room, in O(1) per
/// operation (client-go's event recorder keeps its spam filter and its aggregation in such caches of 4,096).
/// Entries sit in one array linked from most to least recent; freed slots are reused.
public struct LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Slot: Sendable {
        var key: Key
        var value: Value
        var newer: Int
        var older: Int
    }

    public let capacity: Int
    private var slots: [Slot] = []
    private var index: [Key: Int] = [:]
    private var newest = -1
    private var oldest = -1

    public init(capacity: Int) {
        precondition(capacity > 0, "an LRU cache holds at least one entry")
        self.capacity = capacity
    }

    public var count: Int { index.count }

    /// The value for `key`, which becomes the most recently used.
    public mutating func value(for key: Key) -> Value? {
        guard let i = index[key] else { return nil }
        touch(i)
        return slots[i].value
    }

    /// Stores `value` as the most recently used entry, forgetting the least recent one when full.
    public mutating func set(_ key: Key, _ value: Value) {
        if let i = index[key] {
            slots[i].value = value
            touch(i)
            return
        }
        let i: Int
        if index.count == capacity {
            i = oldest
            unlink(i)
            index[slots[i].key] = nil
            slots[i] = Slot(key: key, value: value, newer: -1, older: -1)
        } else {
            i = slots.count
            slots.append(Slot(key: key, value: value, newer: -1, older: -1))
        }
        index[key] = i
        linkNewest(i)
    }

    private mutating func touch(_ i: Int) {
        guard i != newest else { return }
        unlink(i)
        linkNewest(i)
    }

    private mutating func unlink(_ i: Int) {
        let (newer, older) = (slots[i].newer, slots[i].older)
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
    }

    private mutating func linkNewest(_ i: Int) {
        slots[i].newer = -1
        slots[i].older = newest
        if newest >= 0 { slots[newest].newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }
}
