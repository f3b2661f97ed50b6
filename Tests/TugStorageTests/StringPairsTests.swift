import Testing
@testable import TugStorage

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

    /// Key sets too large to share (many keys, or long ones) are kept per map, never in the process-wide table:
    /// objects with such labels, created and deleted, leave nothing behind. They read the same.
    @Test func largeKeySetsAreNotShared() {
        let podFields = ["metadata.name", "metadata.namespace", "spec.hostNetwork", "spec.nodeName", "spec.restartPolicy",
                         "spec.schedulerName", "spec.serviceAccountName", "status.nominatedNodeName", "status.phase", "status.podIP"]
        #expect(StringPairs.shareable(podFields))
        let many = (0...StringPairs.sharedKeyLimit).map { "key-\($0)" }.sorted()
        let long = [String(repeating: "k", count: StringPairs.sharedByteLimit + 1)]
        #expect(!StringPairs.shareable(many) && !StringPairs.shareable(long) && !StringPairs.shareable([]))
        let manyPairs = StringPairs(Dictionary(uniqueKeysWithValues: many.map { ($0, "v-" + $0) }))
        #expect(manyPairs["key-7"] == "v-key-7" && manyPairs.count == many.count)
        #expect(StringPairs([long[0]: "v"])[long[0]] == "v")
    }
}
