import Testing
import TugAPIMachinery

@Suite struct ResourceVersionTemplateTests {
    /// What the store wrote before templates: the whole object encoded with the revision set.
    static func encoded(_ object: JSONValue, _ revision: Int64) -> [UInt8] {
        var o = object
        o["metadata"]["resourceVersion"] = .string(String(revision))
        return JSONWriter.bytes(o)
    }

    static let objects: [JSONValue] = [
        // resourceVersion between other metadata members, and an object after metadata.
        try! JSONParser.parseValue(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default","resourceVersion":"17","uid":"u"},"spec":{"containers":[{"name":"c"}]}}"#),
        // No resourceVersion yet (a create): it goes in its sorted place.
        try! JSONParser.parseValue(#"{"kind":"ConfigMap","metadata":{"name":"a","uid":"u"},"data":{"k":"v"}}"#),
        // resourceVersion would be the first and the last member of metadata.
        try! JSONParser.parseValue(#"{"metadata":{"uid":"u"}}"#),
        try! JSONParser.parseValue(#"{"metadata":{"name":"n"}}"#),
        try! JSONParser.parseValue(#"{"metadata":{}}"#),
        // A nested resourceVersion elsewhere (an Event's involvedObject sorts before metadata) is left alone.
        try! JSONParser.parseValue(#"{"involvedObject":{"resourceVersion":"3"},"metadata":{"name":"e"},"reason":"<\"x\">"}"#),
    ]

    @Test(arguments: objects)
    func stampsWhatTheWriterWouldWrite(_ object: JSONValue) throws {
        let template = try #require(ResourceVersionTemplate(object))
        for revision: Int64 in [1, 9, 10, 12345, 9_223_372_036_854_775_807] {
            let stamped = template.stamped(revision)
            #expect(stamped == Self.encoded(object, revision))
            #expect(stamped.count == template.count(digits: String(revision).count))
            #expect(stamped.capacity < stamped.count + 32)  // no slack kept with the stored value
        }
    }

    @Test func needsAMetadataObject() throws {
        #expect(ResourceVersionTemplate(try JSONParser.parseValue(#"{"kind":"Pod"}"#)) == nil)
        #expect(ResourceVersionTemplate(try JSONParser.parseValue(#"{"metadata":"x"}"#)) == nil)
        #expect(ResourceVersionTemplate(try JSONParser.parseValue(#"[1]"#)) == nil)
    }
}
