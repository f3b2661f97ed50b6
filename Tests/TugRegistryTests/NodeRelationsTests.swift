import Testing
import TugAPIMachinery
@testable import TugRegistry

@Suite struct NodeRelationTests {
    @Test func podsNameWhatTheyUse() throws {
        let spec = try YAMLDecoding.decode("""
            serviceAccountName: web
            imagePullSecrets: [{name: registry}]
            volumes:
            - {name: a, secret: {secretName: tls}}
            - {name: b, configMap: {name: settings}}
            - {name: c, persistentVolumeClaim: {claimName: data}}
            - {name: d, projected: {sources: [{configMap: {name: kube-root-ca.crt}}, {secret: {name: extra}}]}}
            - {name: e, ephemeral: {volumeClaimTemplate: {}}}
            containers:
            - name: c
              env: [{name: P, valueFrom: {secretKeyRef: {name: db, key: p}}}]
              envFrom: [{configMapRef: {name: env}}]
            """)
        let refs = StoreNodeRelations.references(spec, podName: "web-0")
        #expect(refs["secrets"] == ["registry", "tls", "extra", "db"])
        #expect(refs["configmaps"] == ["settings", "kube-root-ca.crt", "env"])
        #expect(refs["persistentvolumeclaims"] == ["data", "web-0-e"])
        #expect(refs["serviceaccounts"] == ["web"])
    }
}
