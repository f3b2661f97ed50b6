import Foundation
import Testing
@testable import TugAPIMachinery

/// The protobuf bodies kubectl 1.32 really sent, from `shared/fixtures/kubectl-probe/protobuf-bodies.jsonl`.
@Suite struct ProtobufFixtureTests {
    static func fixtures() throws -> [String: [UInt8]] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/fixtures/kubectl-probe/protobuf-bodies.jsonl").standardized.path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            Issue.record("fixture file missing: \(path) (shared/ must sit beside the repository)")
            return [:]
        }
        var out: [String: [UInt8]] = [:]
        for line in text.split(separator: "\n") {
            let entry = try JSONParser.parseValue(String(line))
            out[entry["command"].stringValue ?? ""] = Base64.decode(entry["body_b64"].stringValue ?? "")
        }
        return out
    }

    static let namespace = TypeSchema("Namespace", [
        Field("metadata", .object(TypeSchema("ObjectMeta", [Field("name", .string, 1), Field("generateName", .string, 2), Field("namespace", .string, 3),
                                                           Field("selfLink", .string, 4), Field("uid", .string, 5), Field("resourceVersion", .string, 6),
                                                           Field("generation", .int64, 7), Field("creationTimestamp", .time, 8),
                                                           Field("labels", .map(.string), 11)])), 1),
        Field("spec", .object(TypeSchema("NamespaceSpec", [Field("finalizers", .array(.string), 1)])), 2),
        Field("status", .object(TypeSchema("NamespaceStatus", [Field("phase", .string, 1)])), 3),
    ])

    @Test func decodesCreateNamespace() throws {
        let body = try #require(try Self.fixtures()["kubectl create namespace foo"])
        let envelope = try ProtobufDecoder.envelope(body)
        #expect(envelope.apiVersion == "v1")
        #expect(envelope.kind == "Namespace")
        let object = try ProtobufDecoder.decode(envelope.raw, schema: Self.namespace)
        // Explicit zero values ("", 0, empty messages) are unset, as JSON omitempty would give.
        #expect(object == ["metadata": ["name": "foo"]])
    }

    @Test func rejectsBodiesWithoutMagic() {
        #expect(throws: ProtobufDecoder.Failure.self) { try ProtobufDecoder.envelope(Array("{}".utf8)) }
    }

    @Test func neverTrapsOnTruncatedOrMutatedBodies() throws {
        let fixtures = try Self.fixtures()
        var rng = SystemRandomNumberGenerator()
        for body in fixtures.values {
            for cut in stride(from: 0, to: body.count, by: 3) { _ = try? ProtobufDecoder.envelope(Array(body.prefix(cut))) }
            for _ in 0..<300 {
                var mutated = body
                for _ in 0..<3 { mutated[Int.random(in: 4..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                if let envelope = try? ProtobufDecoder.envelope(mutated) { _ = try? ProtobufDecoder.decode(envelope.raw, schema: Self.namespace) }
            }
        }
    }
}
