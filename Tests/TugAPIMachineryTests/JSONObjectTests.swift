import Testing
import TugAPIMachinery

@Suite struct JSONObjectTests {
    @Test func behavesLikeADictionaryInKeyOrder() {
        var object: JSONObject = [:]
        var model: [String: JSONValue] = [:]
        var random = SystemRandomNumberGenerator()
        for step in 0..<3_000 {
            let key = "k\(Int.random(in: 0..<60, using: &random))"
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                object[key] = .int(Int64(step))
                model[key] = .int(Int64(step))
            case 1:
                #expect(object.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 2:
                object[key, default: .array([])] = .string("d\(step)")
                model[key, default: .array([])] = .string("d\(step)")
            default:
                #expect(object[key] == model[key])
            }
            #expect(object.count == model.count)
        }
        #expect(Array(object.keys) == model.keys.sorted())
        #expect(object == JSONObject(model.map { ($0.key, $0.value) }))
        #expect(Dictionary(uniqueKeysWithValues: object.map { ($0.key, $0.value) }) == model)
    }

    @Test func absentKeysAreNilNotNull() {
        let object: JSONObject = ["a": .null, "b": 1]
        #expect(object["a"] == .some(.null))
        #expect(object["c"] == nil)
        var copy = object
        #expect(copy.removeValue(forKey: "c") == nil)
        copy["c"] = 2
        #expect(copy.removeValue(forKey: "c") == 2)
        #expect(copy["c"] == nil)
    }

    @Test func parsedMembersAreSortedAndTheLastRepeatWins() throws {
        let result = try JSONParser.parse(Array(#"{"z":1,"a":{"y":1,"x":2,"y":3},"m":[{"q":1,"q":2}]}"#.utf8))
        #expect(JSONWriter.string(result.value) == #"{"a":{"x":2,"y":3},"m":[{"q":2}],"z":1}"#)
        #expect(Set(result.duplicateKeys) == ["a.y", "m[0].q"])
        guard case .object(let top) = result.value else { Issue.record("not an object"); return }
        #expect(Array(top.keys) == ["a", "m", "z"])
    }

    @Test func equalObjectsHashAlike() {
        let a: JSONValue = ["b": [1, 2], "a": ["c": "d"]]
        let b: JSONValue = ["a": ["c": "d"], "b": [1, 2]]
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(a != ["a": ["c": "e"], "b": [1, 2]])
    }
}
