import Foundation
import Logging
import Testing
import TugAPI
import TugAPIMachinery
@testable import TugRegistry
import TugStorage

@Suite struct ServiceAccountTests {
    @Test func podsGetTheAccountsCredentialsMounted() async throws {
        let store = try await makeStore()
        let pods = try store.scheme.def("", "pods")
        var body = podBody
        body["spec"]["initContainers"] = [["name": "i", "image": "busybox"]]
        let pod = try await store.create(pods, namespace: "default", object: body)
        #expect(pod["spec"]["serviceAccountName"] == "default" && pod["spec"]["serviceAccount"] == "default")
        let volume = try #require(pod["spec"]["volumes"][0].objectValue)
        let name = try #require(volume["name"]?.stringValue)
        #expect(name.hasPrefix("kube-api-access-") && name.count == "kube-api-access-".count + 5)
        let sources = pod["spec"]["volumes"][0]["projected"]["sources"]
        #expect(sources[0]["serviceAccountToken"] == ["expirationSeconds": 3607, "path": "token"])
        #expect(sources[1]["configMap"]["name"] == "kube-root-ca.crt")
        #expect(sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.namespace")
        for list in ["containers", "initContainers"] {
            #expect(pod["spec"][list][0]["volumeMounts"] == [["name": .string(name), "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"]])
        }
    }

    @Test func automountCanBeTurnedOff() async throws {
        let store = try await makeStore()
        let pods = try store.scheme.def("", "pods"), accounts = try store.scheme.def("", "serviceaccounts")
        var body = podBody
        body["spec"]["automountServiceAccountToken"] = false
        #expect(try await store.create(pods, namespace: "default", object: body)["spec"]["volumes"].isNull)
        _ = try await store.create(accounts, namespace: "default", object: ["metadata": ["name": "quiet"], "automountServiceAccountToken": false])
        body = podBody
        body["metadata"]["name"] = "q"
        body["spec"]["serviceAccountName"] = "quiet"
        #expect(try await store.create(pods, namespace: "default", object: body)["spec"]["volumes"].isNull)
    }

    @Test func rootCAIsPublishedAndRestored() async throws {
        let store = try await makeStore()
        let configmaps = try store.scheme.def("", "configmaps")
        let publisher = NamespaceDefaults.rootCA(store: store, caPEM: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
        #expect(await publisher.ensure(configmaps, in: "default"))
        let published = try store.getObject(configmaps, namespace: "default", name: "kube-root-ca.crt")
        #expect(published["data"]["ca.crt"].stringValue?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
        var edited = published
        edited["data"]["ca.crt"] = "tampered"
        _ = try await store.update(configmaps, namespace: "default", name: "kube-root-ca.crt", object: edited)
        #expect(await publisher.ensure(configmaps, in: "default"))
        #expect(try store.getObject(configmaps, namespace: "default", name: "kube-root-ca.crt")["data"]["ca.crt"] == published["data"]["ca.crt"])
    }
}
