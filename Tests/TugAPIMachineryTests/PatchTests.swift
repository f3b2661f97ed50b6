import Testing
@testable import TugAPIMachinery

@Suite struct PatchTests {
    // A tiny schema with the merge keys kubectl relies on.
    static let container = TypeSchema("Container", [
        Field("name", .string), Field("image", .string),
        Field("env", .array(.object(TypeSchema("EnvVar", [Field("name", .string), Field("value", .string)]))), patch: .mergeByKey("name")),
        Field("ports", .array(.object(TypeSchema("Port", [Field("containerPort", .int32)]))), patch: .mergeByKey("containerPort")),
    ])
    static let deployment = TypeSchema("Deployment", [
        Field("metadata", .object(TypeSchema("Meta", open: true, [Field("finalizers", .array(.string), patch: .mergeSet)]))),
        Field("spec", .object(TypeSchema("Spec", [
            Field("replicas", .int32),
            Field("strategy", .object(TypeSchema.anyObject), patch: .retainKeys),
            Field("template", .object(TypeSchema("Template", [
                Field("spec", .object(TypeSchema("PodSpec", [Field("containers", .array(.object(container)), patch: .mergeByKey("name"))]))),
            ]))),
        ]))),
    ])

    static let live: JSONValue = [
        "metadata": ["finalizers": ["a"]],
        "spec": ["replicas": 2, "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": "25%"]],
                 "template": ["spec": ["containers": [
                     ["name": "nginx", "image": "nginx:1.25", "env": [["name": "A", "value": "1"]], "ports": [["containerPort": 80]]],
                     ["name": "sidecar", "image": "busybox"],
                 ]]]],
    ]

    @Test func kubectlApplyRemovesAContainerAndKeepsEnvAndPorts() throws {
        let patch = try JSONParser.parseValue(#"""
            {"spec":{"replicas":3,"template":{"spec":{
              "$setElementOrder/containers":[{"name":"nginx"}],
              "containers":[{"image":"nginx:1.26","name":"nginx"},{"$patch":"delete","name":"sidecar"}]}}}}
            """#)
        let result = try StrategicMergePatch.apply(patch, to: Self.live, schema: Self.deployment)
        let containers = try #require(result["spec"]["template"]["spec"]["containers"].arrayValue)
        #expect(containers.count == 1)
        #expect(containers[0]["image"] == "nginx:1.26")
        #expect(containers[0]["env"][0]["name"] == "A")
        #expect(containers[0]["ports"][0]["containerPort"] == 80)
        #expect(result["spec"]["replicas"] == 3)
        #expect(!JSONWriter.string(result).contains("$"))
    }

    @Test func setImageMergesByNameAndOrders() throws {
        let patch: JSONValue = ["spec": ["template": ["spec": [
            "$setElementOrder/containers": [["name": "sidecar"], ["name": "nginx"]],
            "containers": [["name": "nginx", "image": "nginx:2"]],
        ]]]]
        let result = try StrategicMergePatch.apply(patch, to: Self.live, schema: Self.deployment)
        let names = result["spec"]["template"]["spec"]["containers"].arrayValue?.compactMap { $0["name"].stringValue }
        #expect(names == ["sidecar", "nginx"])
        #expect(result["spec"]["template"]["spec"]["containers"][1]["image"] == "nginx:2")
    }

    @Test func retainKeysDropsUnlistedKeys() throws {
        let patch: JSONValue = ["spec": ["strategy": ["$retainKeys": ["type"], "type": "Recreate"]]]
        let result = try StrategicMergePatch.apply(patch, to: Self.live, schema: Self.deployment)
        #expect(result["spec"]["strategy"] == ["type": "Recreate"])
    }

    @Test func primitiveSetsUnionAndDelete() throws {
        let add = try StrategicMergePatch.apply(["metadata": ["finalizers": ["b", "a"]]], to: Self.live, schema: Self.deployment)
        #expect(add["metadata"]["finalizers"] == ["a", "b"])
        let remove = try StrategicMergePatch.apply(["metadata": ["$deleteFromPrimitiveList/finalizers": ["a"]]], to: add, schema: Self.deployment)
        #expect(remove["metadata"]["finalizers"] == ["b"])
    }

    @Test func replaceDirectiveReplacesList() throws {
        let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "only", "image": "x"], ["$patch": "replace"]]]]]]
        let result = try StrategicMergePatch.apply(patch, to: Self.live, schema: Self.deployment)
        #expect(result["spec"]["template"]["spec"]["containers"] == [["name": "only", "image": "x"]])
    }

    @Test func unknownListsAreReplacedAndNullDeletes() throws {
        let result = try StrategicMergePatch.apply(["spec": ["replicas": nil], "extra": [1, 2]], to: ["spec": ["replicas": 1], "extra": [3]], schema: nil)
        #expect(result == ["spec": .emptyObject, "extra": [1, 2]])
    }

    @Test func mergePatchFollowsRFC7386() {
        let target: JSONValue = ["a": "b", "c": ["d": "e", "f": "g"], "l": [1, 2]]
        let patch: JSONValue = ["a": "z", "c": ["f": nil], "l": [3]]
        #expect(MergePatch.apply(patch, to: target) == ["a": "z", "c": ["d": "e"], "l": [3]])
    }

    @Test func jsonPatchOperations() throws {
        let doc: JSONValue = ["metadata": ["labels": ["a/b": "1"]], "list": [1, 2, 3]]
        let patch = try JSONParser.parseValue(#"""
            [{"op":"add","path":"/list/1","value":9},{"op":"remove","path":"/list/0"},{"op":"replace","path":"/metadata/labels/a~1b","value":"2"},
             {"op":"copy","from":"/list/0","path":"/copied"},{"op":"move","from":"/copied","path":"/moved"},{"op":"test","path":"/moved","value":9},
             {"op":"add","path":"/list/-","value":4}]
            """#)
        let result = try JSONPatch.apply(patch, to: doc)
        #expect(result == ["metadata": ["labels": ["a/b": "2"]], "list": [9, 2, 3, 4], "moved": 9])
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply([["op": "test", "path": "/list/0", "value": 7]], to: doc) }
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply([["op": "remove", "path": "/nope"]], to: doc) }
        #expect(throws: JSONPatch.Failure.self) { try JSONPatch.apply(["op": "add"], to: doc) }
    }
}

/// Inputs that are small but would expand without bound (CVE-2019-11253, CVE-2019-1002100) are refused quickly.
@Suite struct AmplificationTests {
    @Test func yamlAliasBombIsRefused() {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].enumerated() {
            let previous = i == 0 ? "a" : ["b", "c", "d", "e", "f", "g", "h", "i"][i - 1]
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        #expect(text.utf8.count < 600)
        #expect(throws: YAMLDecoding.Failure.self) { try YAMLDecoding.decode(text) }
        // Modest anchor use, as real charts have, still decodes.
        let value = try? YAMLDecoding.decode("base: &base {cpu: 1, memory: 2}\na: *base\nb: *base\n")
        #expect(value?["b"]["memory"] == 2)
    }

    @Test func doublingCopiesAreRefused() {
        // Each copy appends the array to itself: 40 of them would make a terabyte.
        let patch: [JSONValue] = [["op": "add", "path": "/a", "value": [.string(String(repeating: "x", count: 1000))]]]
            + Array(repeating: ["op": "copy", "from": "/a", "path": "/a/-"], count: 40)
        do {
            _ = try JSONPatch.apply(.array(patch), to: .emptyObject)
            Issue.record("a doubling patch was applied")
        } catch {
            #expect(error.tooLarge)
        }
        let many = JSONValue.array(Array(repeating: ["op": "test", "path": "", "value": .emptyObject], count: JSONPatch.maxOperations + 1))
        do {
            _ = try JSONPatch.apply(many, to: .emptyObject)
            Issue.record("a patch over the operation limit was applied")
        } catch {
            #expect(error.tooLarge && error.description.contains("10000"))
        }
    }
}
