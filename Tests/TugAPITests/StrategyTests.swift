import Foundation
import Testing
import TugAPI
import TugAPIMachinery

@Suite struct PodStrategyTests {
    let strategy = PodStrategy()

    @Test func appliesKubernetesDefaults() {
        var pod: JSONValue = ["metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox", "ports": [["containerPort": 80]]],
                                                                                ["name": "d", "image": "nginx:1.25"]]]]
        strategy.applyDefaults(&pod)
        let spec = pod["spec"]
        #expect(spec["restartPolicy"] == "Always")
        #expect(spec["dnsPolicy"] == "ClusterFirst")
        #expect(spec["terminationGracePeriodSeconds"] == 30)
        #expect(spec["serviceAccountName"] == "default")
        #expect(spec["containers"][0]["imagePullPolicy"] == "Always")
        #expect(spec["containers"][1]["imagePullPolicy"] == "IfNotPresent")
        #expect(spec["containers"][0]["ports"][0]["protocol"] == "TCP")
        #expect(spec["containers"][0]["terminationMessagePath"] == "/dev/termination-log")
    }

    @Test func validationNamesFields() {
        let pod: JSONValue = ["spec": ["containers": [["name": "Bad_Name"], ["name": "ok", "image": "x", "ports": [["containerPort": 70000]]]],
                                       "restartPolicy": "Sometimes"]]
        let fields = Set(strategy.validate(pod).errors.map(\.field))
        #expect(fields == ["spec.containers[0].name", "spec.containers[0].image", "spec.containers[1].ports[0].containerPort", "spec.restartPolicy"])
    }

    @Test func resourceFieldDivisorsAndQuantities() {
        func fields(_ container: JSONValue, volumes: JSONValue = []) -> Set<String> {
            Set(strategy.validate(["spec": ["containers": [container], "volumes": volumes]]).errors.map(\.field))
        }
        func env(_ resource: String, _ divisor: String) -> JSONValue {
            ["name": "c", "image": "x", "env": [["name": "V", "valueFrom": ["resourceFieldRef": ["resource": .string(resource), "divisor": .string(divisor)]]]]]
        }
        // "0" is client-go's unset divisor: accepted, as upstream.
        #expect(fields(env("limits.cpu", "0")).isEmpty)
        #expect(fields(env("limits.cpu", "1m")).isEmpty && fields(env("requests.memory", "1Mi")).isEmpty)
        #expect(fields(env("limits.cpu", "2")) == ["spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor"])
        #expect(fields(env("limits.memory", "3k")) == ["spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor"])
        let downward: JSONValue = [["name": "info", "downwardAPI": ["items": [["path": "cpu", "resourceFieldRef": ["containerName": "c", "resource": "limits.cpu", "divisor": "5m"]]]]]]
        #expect(fields(["name": "c", "image": "x"], volumes: downward) == ["spec.volumes[0].downwardAPI.items[0].resourceFieldRef.divisor"])
        let resources: JSONValue = ["name": "c", "image": "x", "resources": ["requests": ["cpu": "-1", "memory": "2Gi"], "limits": ["memory": "1Gi"]]]
        #expect(fields(resources) == ["spec.containers[0].resources.requests[cpu]", "spec.containers[0].resources.requests[memory]"])
    }

    @Test func onlyImagesMayChangeOnUpdate() {
        var old: JSONValue = ["spec": ["containers": [["name": "c", "image": "a"]]]]
        strategy.applyDefaults(&old)
        var newImage = old
        newImage["spec"]["containers"] = [["name": "c", "image": "b"]]
        strategy.applyDefaults(&newImage)
        #expect(strategy.validateUpdate(newImage, old: old).isEmpty)
        var newPolicy = old
        newPolicy["spec"]["restartPolicy"] = "Never"
        #expect(strategy.validateUpdate(newPolicy, old: old).errors.map(\.field) == ["spec"])
    }

    @Test func statusColumn() {
        #expect(PodStrategy.status(["status": ["phase": "Pending"]]) == "Pending")
        #expect(PodStrategy.status(["status": ["phase": "Pending", "containerStatuses": [["state": ["waiting": ["reason": "ContainerCreating"]]]]]]) == "ContainerCreating")
        #expect(PodStrategy.status(["metadata": ["deletionTimestamp": "2024-01-01T00:00:00Z"], "status": ["phase": "Running"]]) == "Terminating")
    }

    @Test func tableCells() throws {
        let now = try #require(KubeTime.parse("2024-01-01T00:01:00Z"))
        let pod: JSONValue = ["metadata": ["name": "p", "creationTimestamp": "2024-01-01T00:00:15Z"],
                              "spec": ["containers": [["name": "c"]], "nodeName": "n1"],
                              "status": ["phase": "Running", "podIP": "10.42.0.5", "containerStatuses": [["ready": true, "restartCount": 0, "state": ["running": .emptyObject]]]]]
        #expect(strategy.cells(pod, now: now) == ["p", "1/1", "Running", "0", "45s", "10.42.0.5", "n1", "<none>", "<none>"])
        #expect(strategy.columns.filter { $0.priority == 0 }.map(\.name) == ["Name", "Ready", "Status", "Restarts", "Age"])
    }
}

@Suite struct WorkloadStrategyTests {
    @Test func deploymentDefaultsAndSelectorCheck() {
        var d: JSONValue = ["spec": ["selector": ["matchLabels": ["app": "web"]],
                                     "template": ["metadata": ["labels": ["app": "other"]], "spec": ["containers": [["name": "c", "image": "x"]]]]]]
        let strategy = DeploymentStrategy()
        strategy.applyDefaults(&d)
        #expect(d["spec"]["replicas"] == 1)
        #expect(d["spec"]["strategy"] == ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]])
        #expect(d["spec"]["template"]["spec"]["restartPolicy"] == "Always")
        #expect(strategy.validate(d).errors.map(\.field) == ["spec.template.metadata.labels"])
    }

    @Test func jobSelectorIsGenerated() {
        var job: JSONValue = ["metadata": ["name": "j", "uid": "u-1"], "spec": ["template": ["spec": ["containers": [["name": "c", "image": "x"]], "restartPolicy": "Never"]]]]
        let strategy = JobStrategy()
        strategy.prepareForCreate(&job)
        strategy.applyDefaults(&job)
        #expect(job["spec"]["selector"] == ["matchLabels": ["batch.kubernetes.io/controller-uid": "u-1"]])
        #expect(job["spec"]["template"]["metadata"]["labels"]["job-name"] == "j")
        #expect(job["spec"]["backoffLimit"] == 6)
        #expect(strategy.validate(job).isEmpty)
    }

    @Test(arguments: ["*/1 * * * *", "0 0 * * sun", "@hourly", "5-10/2 1,2 1 jan-mar *"])
    func validCron(_ schedule: String) { #expect(CronSchedule.isValid(schedule)) }

    @Test(arguments: ["* * * *", "61 * * * *", "@sometimes", "a b c d e"])
    func invalidCron(_ schedule: String) { #expect(!CronSchedule.isValid(schedule)) }

    @Test func secretStringDataFoldsIntoData() {
        var secret: JSONValue = ["stringData": ["k": "v"]]
        SecretStrategy().applyDefaults(&secret)
        #expect(secret == ["type": "Opaque", "data": ["k": "dg=="]])
    }
}

@Suite struct SchemeTests {
    @Test func everyDefinitionIsReachableByPathAndKind() {
        let scheme = Scheme.builtIn
        for d in scheme.definitions {
            #expect(scheme.resource(group: d.group, version: d.version, resource: d.resource)?.kind == d.kind)
            #expect(scheme.kind(group: d.group, version: d.version, kind: d.kind)?.resource == d.resource)
        }
        #expect(scheme.groups.first?.group == "")
    }

    @Test func eventsConvertBothWays() {
        let core: JSONValue = ["involvedObject": ["name": "x"], "message": "m", "count": 2]
        let v1 = EventConversion.toEventsV1(core)
        #expect(v1["regarding"]["name"] == "x" && v1["note"] == "m" && v1["deprecatedCount"] == 2)
        var back = EventConversion.toCore(v1)
        back.apiVersion = nil
        #expect(back == core)
    }
}
