import Foundation
import Testing
import TugClient

@Suite struct KubeconfigTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readsCurrentContext() throws {
        let path = try write("""
            apiVersion: v1
            kind: Config
            clusters:
            - name: other
              cluster: {server: "https://10.0.0.1:6443"}
            - name: tugboat
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: \(Data("PEM".utf8).base64EncodedString())
            contexts:
            - name: a
              context: {cluster: other, user: nobody}
            - name: b
              context: {cluster: tugboat, user: admin}
            current-context: b
            users:
            - name: admin
              user: {token: abc}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = try Kubeconfig.load(path: path)
        #expect(config.server == "https://127.0.0.1:6443")
        #expect(config.caPEM == "PEM")
        #expect(config.token == "abc")
    }

    @Test func rejectsConfigWithoutServer() throws {
        let path = try write("contexts:\n- name: a\n  context: {cluster: c, user: u}\ncurrent-context: a\nclusters:\n- name: c\n  cluster: {}\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: Kubeconfig.Failure.self) { try Kubeconfig.load(path: path) }
    }
}
