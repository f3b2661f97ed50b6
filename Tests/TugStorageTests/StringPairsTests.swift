import Testing
import TugStorage

@Suite struct StringPairsTests {
    @Test func readsLikeTheDictionaryItWasBuiltFrom() {
        let pairs = StringPairs(["spec.nodeName": "n1", "status.phase": "Running", "metadata.name": "a"])
        #expect(pairs["spec.nodeName"] == "n1")
        #expect(pairs["status.phase"] == "Running")
        #expect(pairs["metadata.name"] == "a")
        #expect(pairs["metadata.namespace"] == nil)
        #expect(pairs["a"] == nil && pairs["zzz"] == nil)
        #expect(pairs.count == 3 && !pairs.isEmpty)
        #expect(StringPairs().isEmpty && StringPairs()["x"] == nil)
    }

    @Test func equalityAndHashingFollowTheContent() {
        let a = StringPairs(["app": "web", "tier": "front"])
        let b: StringPairs = ["tier": "front", "app": "web"]
        #expect(a == b && a.hashValue == b.hashValue)
        #expect(a != StringPairs(["app": "web", "tier": "back"]))
        #expect(a != StringPairs(["app": "web", "zone": "front"]))
        #expect(a != StringPairs(["app": "web"]))
        #expect(StringPairs() == StringPairs([:]))
    }

    /// More key sets than the shared table keeps: the ones past its capacity are kept per map and read the same.
    @Test func keySetsPastTheSharedTableStillRead() {
        let maps = (0..<6000).map { i in (i, StringPairs(["key-\(i)": "value-\(i)", "app": "x"])) }
        for (i, map) in maps {
            #expect(map["key-\(i)"] == "value-\(i)")
            #expect(map["app"] == "x")
            #expect(map == StringPairs(["app": "x", "key-\(i)": "value-\(i)"]))
        }
    }
}
