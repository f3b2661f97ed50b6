"""The official Python client (kubernetes 37.0.2) against the real server."""
import json

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="module")
def api(server):
    return config.new_client_from_config(config_file=server.kubeconfig)


def test_version(api):
    assert client.VersionApi(api).get_code().minor == "32"


def test_list_watch_create_patch_delete(api, server):
    core = client.CoreV1Api(api)
    apps = client.AppsV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="p1", labels={"app": "py"}),
                       spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox")]))
    created = core.create_namespaced_pod("py", pod)
    assert created.metadata.uid and created.spec.restart_policy == "Always"
    pods = core.list_namespaced_pod("py")
    assert [p.metadata.name for p in pods.items] == ["p1"]
    assert core.list_namespaced_pod("py", label_selector="app=nope").items == []

    events = [e for e in watch.Watch().stream(core.list_namespaced_pod, "py", timeout_seconds=2)]
    # ADDED first; the scheduler may then mark the pod Unschedulable (this server has no node), a MODIFIED.
    assert [(e["type"], e["object"].metadata.name) for e in events][0] == ("ADDED", "p1")
    assert {(e["type"], e["object"].metadata.name) for e in events[1:]} <= {("MODIFIED", "p1")}

    deploy = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "web"}),
                                              spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]))))
    apps.create_namespaced_deployment("py", deploy)
    apps.patch_namespaced_deployment_scale("web", "py", {"spec": {"replicas": 2}})
    assert apps.read_namespaced_deployment("web", "py").spec.replicas == 2
    apps.patch_namespaced_deployment("web", "py", {"metadata": {"labels": {"x": "y"}}})
    apps.patch_namespaced_deployment("web", "py", [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}])
    live = apps.read_namespaced_deployment("web", "py")
    # The Deployment controller adds its revision annotation whenever it gets to the object (before or after the
    # patch that replaced the annotations), so that one key may be there too.
    annotations = dict(live.metadata.annotations)
    annotations.pop("deployment.kubernetes.io/revision", None)
    assert live.metadata.labels == {"x": "y"} and annotations == {"a": "b"}
    assert live.spec.strategy.type == "RollingUpdate"

    core.delete_namespaced_pod("p1", "py")
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("p1", "py")
    assert err.value.status == 404
    assert json.loads(err.value.body)["reason"] == "NotFound"
    with pytest.raises(ApiException) as conflict:
        core.create_namespaced_pod("py", client.V1Pod(metadata=client.V1ObjectMeta(name="p1"), spec=client.V1PodSpec(containers=[])))
    assert conflict.value.status == 422


def test_watch_from_resource_version(api):
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map("default")
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="rv1"), data={"a": "1"}))
    core.patch_namespaced_config_map("rv1", "default", {"data": {"a": "2"}})
    core.delete_namespaced_config_map("rv1", "default")
    stream = watch.Watch().stream(core.list_namespaced_config_map, "default",
                                  resource_version=listed.metadata.resource_version, timeout_seconds=2)
    assert [e["type"] for e in stream] == ["ADDED", "MODIFIED", "DELETED"]


def test_nodes_and_events_parse(api):
    core = client.CoreV1Api(api)
    assert core.list_node().items == []
    ev = client.CoreV1Event(metadata=client.V1ObjectMeta(name="e1"), involved_object=client.V1ObjectReference(kind="Pod", name="x", namespace="default"),
                            reason="Test", message="hello", type="Normal")
    core.create_namespaced_event("default", ev)
    listed = core.list_namespaced_event("default", field_selector="involvedObject.name=x")
    assert [e.message for e in listed.items] == ["hello"]
    v1events = client.EventsV1Api(api).list_namespaced_event("default")
    assert [e.note for e in v1events.items] == ["hello"]


def test_dynamic_client_uses_legacy_discovery(api):
    from kubernetes import dynamic
    dyn = dynamic.DynamicClient(api)
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    configmaps.create(body={"metadata": {"name": "dyn"}, "data": {"a": "1"}}, namespace="default")
    configmaps.patch(body={"data": {"a": "2"}}, name="dyn", namespace="default", content_type="application/merge-patch+json")
    assert configmaps.get(name="dyn", namespace="default").to_dict()["data"] == {"a": "2"}
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced and "scale" in deployments.subresources
    configmaps.delete(name="dyn", namespace="default")
