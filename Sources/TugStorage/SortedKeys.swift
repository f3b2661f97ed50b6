/// Every stored key in order, in chunks of a few hundred: a LIST walks the keys under its prefix from a binary
/// search, and a write moves at most one chunk's worth of references.
///
/// Sets per directory, sorted again by the first LIST after any change, cost a sort of the whole directory under
/// the store's lock: with 150,000 pods in one namespace that was about a tenth of a second for every LIST after a
/// pod came or went, and a soak that listed twice a second (its churn, its watchers re-opening) held the lock so
/// long that lease renewals waited two seconds each and 254 nodes were lost.
///
/// Keys compare as Swift strings; the keys under a prefix are contiguous in that order.
struct SortedKeys {
    /// Non-empty chunks, each sorted, every key of one below every key of the next.
    private var chunks: [[String]] = []
    private(set) var count = 0

    /// A chunk splits in two when it grows past this.
    static let chunkLimit = 512

    /// Where a key is or would be: chunk and index in it (`chunk == chunks.count` past the end).
    struct Position: Comparable {
        var chunk: Int
        var index: Int

        static func < (a: Position, b: Position) -> Bool { (a.chunk, a.index) < (b.chunk, b.index) }
    }

    /// The first position whose key satisfies `isAfter`, which must be false for a prefix of the order and true
    /// for the rest.
    func first(where isAfter: (String) -> Bool) -> Position {
        var low = 0, high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if isAfter(chunks[middle][chunks[middle].count - 1]) { high = middle } else { low = middle + 1 }
        }
        guard low < chunks.count else { return Position(chunk: chunks.count, index: 0) }
        let chunk = chunks[low]
        var i = 0, j = chunk.count - 1
        while i < j {
            let middle = (i + j) / 2
            if isAfter(chunk[middle]) { j = middle } else { i = middle + 1 }
        }
        return Position(chunk: low, index: i)
    }

    /// The first key at or after `key`.
    func lowerBound(_ key: String) -> Position { first { $0 >= key } }

    /// How many keys lie before `position` (a sum over chunks: a few hundred additions at 150,000 keys).
    func rank(_ position: Position) -> Int {
        var n = position.index
        for chunk in chunks[..<position.chunk] { n += chunk.count }
        return n
    }

    /// Calls `body` with the keys from `position` on, in order, until it returns false or `end` is reached.
    func forEach(from position: Position, to end: Position, _ body: (String) -> Bool) {
        var p = position
        while p < end {
            guard p.chunk < chunks.count else { return }
            let chunk = chunks[p.chunk]
            let stop = p.chunk == end.chunk ? end.index : chunk.count
            while p.index < stop {
                if !body(chunk[p.index]) { return }
                p.index += 1
            }
            p = Position(chunk: p.chunk + 1, index: 0)
        }
    }

    mutating func insert(_ key: String) {
        guard !chunks.isEmpty else {
            chunks = [[key]]
            count = 1
            return
        }
        var p = lowerBound(key)
        if p.chunk < chunks.count, chunks[p.chunk][p.index] == key { return }
        // Past every key: it goes at the end of the last chunk.
        if p.chunk == chunks.count { p = Position(chunk: chunks.count - 1, index: chunks[chunks.count - 1].count) }
        chunks[p.chunk].insert(key, at: p.index)
        count += 1
        if chunks[p.chunk].count > Self.chunkLimit {
            let upper = Array(chunks[p.chunk][(Self.chunkLimit / 2)...])
            chunks[p.chunk].removeSubrange((Self.chunkLimit / 2)...)
            chunks.insert(upper, at: p.chunk + 1)
        }
    }

    mutating func remove(_ key: String) {
        let p = lowerBound(key)
        guard p.chunk < chunks.count, chunks[p.chunk][p.index] == key else { return }
        chunks[p.chunk].remove(at: p.index)
        count -= 1
        if chunks[p.chunk].isEmpty { chunks.remove(at: p.chunk) }
    }

    mutating func removeAll() {
        chunks = []
        count = 0
    }

    /// The keys that start with `prefix`, in order (tests; the store walks them with `forEach`).
    func keys(withPrefix prefix: String) -> [String] {
        var keys: [String] = []
        let (start, end) = range(withPrefix: prefix)
        forEach(from: start, to: end) { keys.append($0); return true }
        return keys
    }

    /// Where the keys that start with `prefix` begin and end.
    func range(withPrefix prefix: String) -> (start: Position, end: Position) {
        (lowerBound(prefix), first { $0 > prefix && !$0.hasPrefix(prefix) })
    }
}
