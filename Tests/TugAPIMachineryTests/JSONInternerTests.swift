import Testing
import TugAPIMachinery

@Suite struct JSONInternerTests {
    static func pod(_ i: Int) -> String {
        """
        {"metadata":{"name":"load-7c76f4c975-\(i)x","uid":"43e596e8-58ac-4171-9432-\(100_000_000_000 + i)",
         "creationTimestamp":"2026-12-01T19:47:02Z"},
         "spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.9",
                 "terminationMessagePolicy":"File","terminationMessagePath":"/dev/termination-log"}]},
         "status":{"conditions":[{"type":"Ready","lastTransitionTime":"2026-12-01T19:47:02Z"},
                                 {"type":"PodScheduled","lastTransitionTime":"2026-12-01T19:47:02Z"}],
                   "message":"caf\\u00e9 \\"quoted\\" and long enough"}}
        """
    }

    /// The address of a string's UTF-8 storage: equal for two strings that share one allocation.
    static func storage(_ value: JSONValue) -> UnsafeRawPointer? {
        guard var string = value.stringValue else { return nil }
        return string.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func decodesTheSameValuesAsWithout() throws {
        let interner = JSONInterner()
        for i in 0..<200 {
            let text = Self.pod(i)
            #expect(try JSONParser.parseValue(Array(text.utf8), interner: interner) == JSONParser.parseValue(text))
        }
        #expect(interner.hits > interner.misses)
    }

    @Test func repeatedStringsShareOneAllocation() throws {
        let interner = JSONInterner()
        let a = try JSONParser.parseValue(Array(Self.pod(1).utf8), interner: interner)
        let b = try JSONParser.parseValue(Array(Self.pod(2).utf8), interner: interner)
        let image = { (pod: JSONValue) in pod["spec"]["containers"][0]["image"] }
        let condition = { (pod: JSONValue, i: Int) in pod["status"]["conditions"][i]["lastTransitionTime"] }
        #expect(Self.storage(image(a)) == Self.storage(image(b)))
        #expect(Self.storage(condition(a, 0)) == Self.storage(condition(a, 1)))
        #expect(Self.storage(a["metadata"]["creationTimestamp"]) == Self.storage(condition(b, 1)))
        // Different strings stay different; without an interner nothing is shared.
        #expect(a["metadata"]["uid"] != b["metadata"]["uid"])
        let c = try JSONParser.parseValue(Self.pod(1))
        #expect(Self.storage(image(c)) != Self.storage(image(a)))
    }

    /// The address of an array's element storage: equal for two arrays that share one buffer.
    static func elements(_ value: JSONValue) -> UnsafeRawPointer? {
        value.arrayValue?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func repeatedObjectsAndArraysShareOneTree() throws {
        let interner = JSONInterner()
        let a = try JSONParser.parseValue(Array(Self.pod(1).utf8), interner: interner)
        let b = try JSONParser.parseValue(Array(Self.pod(2).utf8), interner: interner)
        // The same containers and conditions in both pods: one tree, held once.
        #expect(Self.elements(a["spec"]["containers"]) != nil)
        #expect(Self.elements(a["spec"]["containers"]) == Self.elements(b["spec"]["containers"]))
        #expect(Self.elements(a["status"]["conditions"]) == Self.elements(b["status"]["conditions"]))
        #expect(interner.sharedContainers > 0)
        // Each pod's own metadata is its own, and equal values are all that sharing ever returns.
        #expect(a["metadata"] != b["metadata"])
        #expect(a["status"]["conditions"] == (try JSONParser.parseValue(Self.pod(2)))["status"]["conditions"])
        // A changed copy leaves the shared tree alone.
        var changed = b
        changed["spec"]["containers"] = .array([["name": "other"]])
        #expect(a["spec"]["containers"][0]["name"] == "c")
        // Without an interner nothing is shared.
        let c = try JSONParser.parseValue(Self.pod(1))
        #expect(Self.elements(c["spec"]["containers"]) != Self.elements(a["spec"]["containers"]))
    }

    @Test func largeAndTinyContainersAreNotLookedUp() throws {
        let interner = JSONInterner()
        let large = "[" + Array(repeating: "\"0123456789\"", count: 60).joined(separator: ",") + "]"
        _ = try JSONParser.parseValue(Array(large.utf8), interner: interner)
        _ = try JSONParser.parseValue(Array(#"{"a":1}"#.utf8), interner: interner)
        #expect(interner.sharedContainers + interner.storedContainers == 0)
    }

    @Test func shortAndEscapedStringsAreNotLookedUp() throws {
        let interner = JSONInterner()
        _ = try JSONParser.parseValue(Array(#"{"a":"short","b":"long but \"escaped\" string"}"#.utf8), interner: interner)
        #expect(interner.hits + interner.misses == 0)
    }

    @Test func invalidUTF8IsStillRejected() {
        let interner = JSONInterner()
        var bytes = Array(#"{"key":"0123456789abcdefXYZ"}"#.utf8)
        bytes[bytes.count - 4] = 0xFF
        #expect(throws: JSONParseError.self) { try JSONParser.parseValue(bytes, interner: interner) }
        // The same bytes again: a rejected string was never stored.
        #expect(throws: JSONParseError.self) { try JSONParser.parseValue(bytes, interner: interner) }
    }

    @Test func aTinyTableStillDecodesEverythingCorrectly() throws {
        // Two slots: constant collisions replace entries, and every string must still come out right.
        let interner = JSONInterner(capacity: 2)
        for i in 0..<100 {
            let value = try JSONParser.parseValue(Array(Self.pod(i).utf8), interner: interner)
            #expect(value["metadata"]["name"].stringValue == "load-7c76f4c975-\(i)x")
            #expect(value["spec"]["containers"][0]["terminationMessagePath"].stringValue == "/dev/termination-log")
        }
    }
}
