/// The stored keys in order, kept per directory (a key up to its last "/": `/core/pods/default/`).
///
/// A LIST needs the keys under its prefix in order. One sorted array of every key had to be rebuilt after each
/// create or delete, so at 40,000 pods the PriorityClass lookup of every pod creation sorted the whole store. Here
/// a write unsorts only its own directory, and a LIST sorts only the directories under its prefix, once per change.
struct KeyDirectories {
    private struct Directory {
        var keys: Set<String> = []
        /// `keys` in order; nil after a change, until the next LIST that needs it.
        var sorted: [String]? = []
    }

    private var directories: [String: Directory] = [:]
    /// Directory names in order; nil after one is added or removed.
    private var names: [String]? = []

    static func directory(of key: String) -> String {
        guard let slash = key.lastIndex(of: "/") else { return "" }
        return String(key[...slash])
    }

    mutating func insert(_ key: String) {
        let name = Self.directory(of: key)
        if directories[name] == nil { names = nil }
        let inserted = directories[name, default: Directory()].keys.insert(key).inserted
        if inserted { directories[name]?.sorted = nil }
    }

    mutating func remove(_ key: String) {
        let name = Self.directory(of: key)
        guard directories[name]?.keys.remove(key) != nil else { return }
        if directories[name]?.keys.isEmpty == true {
            directories[name] = nil
            names = nil
        } else {
            directories[name]?.sorted = nil
        }
    }

    mutating func removeAll() {
        directories = [:]
        names = []
    }

    /// Every key that starts with `prefix`, in order.
    mutating func keys(withPrefix prefix: String) -> [String] {
        if names == nil { names = directories.keys.sorted() }
        let names = self.names ?? []
        // Keys under `prefix` live in the directories that start with it, and (when `prefix` ends inside a name)
        // in the directory that `prefix` itself ends in.
        var matching: [String] = []
        let own = Self.directory(of: prefix)
        if own != prefix, directories[own] != nil { matching.append(own) }
        var lo = 0, hi = names.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if names[mid] < prefix { lo = mid + 1 } else { hi = mid }
        }
        while lo < names.count, names[lo].hasPrefix(prefix) {
            matching.append(names[lo])
            lo += 1
        }
        // One directory (a namespace's objects of a kind, the common LIST) is its sorted array, shared, not copied.
        if matching.count == 1, matching[0] != own || own == prefix { return sortedKeys(of: matching[0]) }
        var keys: [String] = []
        for name in matching {
            let sorted = sortedKeys(of: name)
            if name == own, own != prefix { keys += sorted.lazy.filter { $0.hasPrefix(prefix) } } else { keys += sorted }
        }
        // Directories in order give keys in order unless one directory name is a prefix of another (keys at two
        // depths, or the partial name above): then the concatenation needs a merge.
        if !Self.isSorted(keys) { keys.sort() }
        return keys
    }

    private mutating func sortedKeys(of name: String) -> [String] {
        if let sorted = directories[name]?.sorted { return sorted }
        let sorted = directories[name]?.keys.sorted() ?? []
        directories[name]?.sorted = sorted
        return sorted
    }

    static func isSorted(_ keys: [String]) -> Bool {
        zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }
    }
}
