import Testing
@testable import TugAPIMachinery

@Suite struct SchemaWalkerTests {
    static let schema = TypeSchema("T", [
        Field("replicas", .int32), Field("name", .string), Field("cpu", .quantity), Field("data", .map(.bytes)),
        Field("port", .intOrString), Field("open", .object(TypeSchema("O", open: true, []))),
    ])

    @Test func reportsAndPrunesUnknownFields() {
        let result = SchemaWalker.normalize(["name": "x", "nmae": "y", "open": ["anything": 1]], schema: Self.schema)
        #expect(result.unknownFields == ["nmae"])
        #expect(result.value == ["name": "x", "open": ["anything": 1]])
    }

    @Test func typeErrorsCarryFieldPaths() {
        let result = SchemaWalker.normalize(["replicas": "3", "data": ["k": "not base64!"]], schema: Self.schema)
        #expect(Set(result.typeErrors.map(\.field)) == ["replicas", "data.k"])
    }

    @Test func numbersBecomeQuantityStrings() {
        #expect(SchemaWalker.normalize(["cpu": 1, "port": 80], schema: Self.schema).value == ["cpu": "1", "port": 80])
    }
}
