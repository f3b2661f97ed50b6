import Testing
@testable import TugAPIMachinery

@Suite struct JSONTests {
    @Test func roundTripsCanonically() throws {
        let text = #"{"b":[1,2.5,"x",true,null],"a":{"z":-3,"e":"\u00e9\n\"q\""}}"#
        let value = try JSONParser.parseValue(text)
        #expect(value["b"][0] == .int(1))
        #expect(value["b"][1] == .double(2.5))
        #expect(value["a"]["e"].stringValue == "é\n\"q\"")
        #expect(JSONWriter.string(value) == #"{"a":{"e":"é\n\"q\"","z":-3},"b":[1,2.5,"x",true,null]}"#)
        #expect(try JSONParser.parseValue(JSONWriter.bytes(value)) == value)
    }

    @Test func readsIntegersAtTheirBoundsAndPastThem() throws {
        #expect(try JSONParser.parseValue("9223372036854775807") == .int(.max))
        #expect(try JSONParser.parseValue("-9223372036854775808") == .int(.min))
        #expect(try JSONParser.parseValue("-0") == .int(0))
        // One past either bound is no longer an integer: it is read as a double, as before.
        #expect(try JSONParser.parseValue("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try JSONParser.parseValue("-9223372036854775809") == .double(-9_223_372_036_854_775_809))
        #expect(try JSONParser.parseValue("123456789012345678901234567890") == .double(1.2345678901234568e29))
        for value: Int64 in [0, 7, -7, 10, 999, -1000, .max, .min] {
            #expect(JSONWriter.string(.int(value)) == String(value))
        }
        #expect(JSONWriter.string(.double(-42)) == "-42")
    }

    @Test func stringsAreValidatedOnlyWhenNotASCII() throws {
        #expect(try JSONParser.parseValue(Array(#""plain ascii""#.utf8)) == .string("plain ascii"))
        #expect(try JSONParser.parseValue(Array("\"naïve ✓\"".utf8)) == .string("naïve ✓"))
        // Invalid UTF-8, with and without the interner: an overlong encoding, a lone continuation byte, a truncation.
        for bad: [UInt8] in [[0xC0, 0xAF], [0x80], [0x61, 0xE2, 0x82]] {
            let document = [0x22] + bad + [0x22]
            #expect(throws: JSONParseError.self) { try JSONParser.parseValue(document) }
            let long = [0x22] + Array(repeating: 0x61, count: 20) + bad + [0x22]
            #expect(throws: JSONParseError.self) { try JSONParser.parseValue(long, interner: JSONInterner()) }
        }
    }

    @Test func writesEscapesAndCopiesRunsBetweenThem() throws {
        let text = "a\"b\\c\nd\re\tf<g>h&i\u{01}j\u{1F}kélm"
        #expect(JSONWriter.string(.string(text)) == #""a\"b\\c\nd\re\tf\u003cg\u003eh\u0026i\u0001j\u001fkélm""#)
        #expect(JSONWriter.string(.string("")) == #""""#)
        #expect(JSONWriter.string(.string("\"")) == #""\"""#)
        #expect(try JSONParser.parseValue(JSONWriter.bytes(.string(text))) == .string(text))
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONParser.parseValue(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func reportsDuplicateKeysWithPaths() throws {
        let result = try JSONParser.parse(Array(#"{"spec":{"replicas":1,"replicas":2},"items":[{"a":1,"a":2}]}"#.utf8))
        #expect(result.duplicateKeys.sorted() == ["items[0].a", "spec.replicas"])
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":}", "01", "1.", "\"\\x\"", "tru", "{\"a\" 1}", "[1 2]", "nul", "\"abc", "-", "1e"])
    func rejectsMalformedInput(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parseValue(text) }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parseValue(deep) }
    }

    @Test func neverTrapsOnRandomBytes() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,0123456789-+.eEtrufalsn\ "#.utf8) + [0, 0xC3, 0xFF]
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? 0 }
            _ = try? JSONParser.parseValue(bytes)
        }
    }

    @Test func yamlScalarsResolveToJSONTypes() throws {
        let value = try YAMLDecoding.decode("a: 7\nb: \"7\"\nc: true\nd: null\ne: 1.5\nf: [x, 2]\n")
        #expect(value == ["a": 7, "b": "7", "c": true, "d": nil, "e": 1.5, "f": ["x", 2]])
    }

    @Test func base64RoundTrips() {
        for text in ["", "a", "ab", "abc", "abcd", "hello world"] {
            let encoded = Base64.encode(Array(text.utf8))
            #expect(Base64.decode(encoded).map { String(decoding: $0, as: UTF8.self) } == text)
        }
        #expect(Base64.encode(Array("v".utf8)) == "dg==")
        #expect(Base64.decode("@@") == nil)
    }
}

@Suite struct TimeTests {
    @Test func formatsAndParsesRFC3339() throws {
        let date = try #require(KubeTime.parse("2024-02-29T13:04:05Z"))
        #expect(KubeTime.format(date) == "2024-02-29T13:04:05Z")
        #expect(KubeTime.parse("2024-02-29T15:04:05+02:00") == date)
        #expect(KubeTime.parse("2024-02-29T13:04:05.250Z").map { $0.timeIntervalSince(date) } == 0.25)
        #expect(KubeTime.parse("yesterday") == nil)
    }

    static let durations: [(Double, String)] = [
        (45, "45s"), (187, "3m7s"), (180, "3m"), (95 * 60, "95m"), (5 * 3600 + 180, "5h3m"), (30 * 3600, "30h"),
        (3 * 86400 + 4 * 3600, "3d4h"), (120 * 86400, "120d"), (2 * 365 * 86400 + 30 * 86400, "2y30d"), (9 * 365 * 86400, "9y"),
    ]

    @Test func humanDuration() {
        for (seconds, expected) in Self.durations {
            #expect(KubeTime.humanDuration(seconds) == expected)
        }
    }
}
