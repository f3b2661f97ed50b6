import Testing
@testable import TugStorage

/// LIST order comes from here: every prefix must give exactly the keys a sort of all keys would.
@Suite struct SortedKeysTests {
    static let keys = [
        "/core/pods/a/x", "/core/pods/a/y", "/core/pods/a-b/z", "/core/pods/ab/w", "/core/pods/b/a",
        "/core/priorityclasses/high", "/core/priorityclasses/low", "/apps/deployments/a/web",
        // Keys at two depths under one directory, and keys that are prefixes of others.
        "/odd/x", "/odd/x/y", "/odd/w/z", "/odd/xa", "nodirectory",
    ]

    static func expected(_ keys: Set<String>, _ prefix: String) -> [String] { keys.filter { $0.hasPrefix(prefix) }.sorted() }

    @Test func everyPrefixListsInKeyOrder() {
        var sorted = SortedKeys()
        for key in Self.keys { sorted.insert(key) }
        let all = Set(Self.keys)
        var prefixes: Set<String> = [""]
        for key in Self.keys { for n in 0...key.count { prefixes.insert(String(key.prefix(n))) } }
        for prefix in prefixes {
            #expect(sorted.keys(withPrefix: prefix) == Self.expected(all, prefix), "prefix \(prefix)")
        }
        #expect(sorted.count == Self.keys.count)
    }

    /// Enough keys for chunks to split and empty, inserted and removed at random (twice: no duplicates).
    @Test func writesKeepTheOrderAcrossChunks() {
        var sorted = SortedKeys()
        var live: Set<String> = []
        var x: UInt64 = 11
        func next(_ n: Int) -> Int { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return Int((x >> 33) % UInt64(n)) }
        for step in 0..<20_000 {
            let key = "/core/pods/ns\(next(4))/p\(next(1_500))"
            if live.contains(key), next(3) > 0 {
                sorted.remove(key)
                live.remove(key)
            } else {
                sorted.insert(key)
                live.insert(key)
            }
            if step % 997 == 0 {
                for prefix in ["/core/pods/", "/core/pods/ns1/", "/core/pods/ns2/p1", "", "/core/pods/ns9/"] {
                    #expect(sorted.keys(withPrefix: prefix) == Self.expected(live, prefix), "prefix \(prefix) at step \(step)")
                }
                #expect(sorted.count == live.count)
            }
        }
        #expect(live.count > SortedKeys.chunkLimit * 2, "too few keys to split chunks")
        let (start, end) = sorted.range(withPrefix: "/core/pods/ns2/")
        #expect(sorted.rank(end) - sorted.rank(start) == live.filter { $0.hasPrefix("/core/pods/ns2/") }.count)
        for key in live { sorted.remove(key) }
        #expect(sorted.keys(withPrefix: "").isEmpty && sorted.count == 0)
    }
}
