import Testing
@testable import TugStorage

/// LIST order comes from here: every prefix must give exactly the keys a sort of all keys would.
@Suite struct KeyDirectoriesTests {
    static let keys = [
        "/core/pods/a/x", "/core/pods/a/y", "/core/pods/a-b/z", "/core/pods/ab/w", "/core/pods/b/a",
        "/core/priorityclasses/high", "/core/priorityclasses/low", "/apps/deployments/a/web",
        // Keys at two depths under one directory, so directories alone do not give the order.
        "/odd/x", "/odd/x/y", "/odd/w/z", "/odd/xa", "nodirectory",
    ]

    static func expected(_ keys: Set<String>, _ prefix: String) -> [String] { keys.filter { $0.hasPrefix(prefix) }.sorted() }

    @Test func everyPrefixListsInKeyOrder() {
        var directories = KeyDirectories()
        for key in Self.keys { directories.insert(key) }
        let all = Set(Self.keys)
        var prefixes: Set<String> = [""]
        for key in Self.keys { for n in 0...key.count { prefixes.insert(String(key.prefix(n))) } }
        for prefix in prefixes {
            #expect(directories.keys(withPrefix: prefix) == Self.expected(all, prefix), "prefix \(prefix)")
        }
    }

    @Test func writesResortOnlyWhatChanged() {
        var directories = KeyDirectories()
        var live: Set<String> = []
        var random = SystemRandomNumberGenerator()
        for step in 0..<2_000 {
            let key = "/core/pods/ns\(Int.random(in: 0..<4, using: &random))/p\(Int.random(in: 0..<50, using: &random))"
            if live.contains(key) {
                directories.remove(key)
                live.remove(key)
            } else {
                directories.insert(key)
                live.insert(key)
            }
            if step % 7 == 0 {
                let prefix = ["/core/pods/", "/core/pods/ns1/", "/core/pods/ns2/p1", ""].randomElement(using: &random)!
                #expect(directories.keys(withPrefix: prefix) == Self.expected(live, prefix))
            }
        }
        for key in live { directories.remove(key) }
        #expect(directories.keys(withPrefix: "").isEmpty)
    }
}
