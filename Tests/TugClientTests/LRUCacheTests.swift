import Testing
import TugClient

@Suite struct LRUCacheTests {
    @Test func forgetsTheLeastRecentlyUsed() {
        var cache = LRUCache<String, Int>(capacity: 3)
        cache.set("a", 1)
        cache.set("b", 2)
        cache.set("c", 3)
        #expect(cache.value(for: "a") == 1)  // a is now the most recent; b the least
        cache.set("d", 4)
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1)
        #expect(cache.value(for: "c") == 3)
        #expect(cache.value(for: "d") == 4)
        cache.set("c", 30)  // an update keeps one entry and makes it recent
        cache.set("e", 5)
        #expect(cache.count == 3)
        #expect(cache.value(for: "a") == nil)
        #expect(cache.value(for: "c") == 30)
    }

    @Test func matchesAReferenceModel() {
        var cache = LRUCache<Int, Int>(capacity: 16)
        var model: [(key: Int, value: Int)] = []  // most recent last
        var random = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let key = Int.random(in: 0..<40, using: &random)
            if Bool.random(using: &random) {
                cache.set(key, step)
                model.removeAll { $0.key == key }
                model.append((key, step))
                if model.count > 16 { model.removeFirst() }
            } else {
                let expected = model.firstIndex { $0.key == key }.map { model.remove(at: $0) }
                if let expected { model.append(expected) }
                #expect(cache.value(for: key) == expected?.value)
            }
            #expect(cache.count == model.count)
        }
    }
}
