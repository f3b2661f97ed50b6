"""The Python clients beyond the official one, against the real server: kubernetes-asyncio (aiohttp, a strict TLS
context on Python 3.13, `watch=True` spelled the Python way), lightkube (httpx, server-side apply) and kr8s
(discovery-driven kinds)."""
import asyncio
import json

import pytest

kubernetes_asyncio = pytest.importorskip("kubernetes_asyncio", reason="installed by `make deps` into .build-venv")
lightkube = pytest.importorskip("lightkube")
kr8s = pytest.importorskip("kr8s")


def test_kubernetes_asyncio(server, namespace):
    from kubernetes_asyncio import client, config, watch

    async def run():
        api = await config.new_client_from_config(config_file=server.kubeconfig)
        async with api:
            core = client.CoreV1Api(api)
            assert (await client.VersionApi(api).get_code()).minor == "32"
            await core.create_namespaced_config_map(namespace, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="a1", labels={"app": "aio"}), data={"k": "v"}))
            listed = await core.list_namespaced_config_map(namespace, label_selector="app=aio")
            assert [c.metadata.name for c in listed.items] == ["a1"]

            # A watch from the listed version sees the patch and the delete that follow.
            events = []

            async def follow():
                async for e in watch.Watch().stream(core.list_namespaced_config_map, namespace, label_selector="app=aio",
                                                    resource_version=listed.metadata.resource_version, timeout_seconds=5):
                    events.append((e["type"], e["object"].metadata.name, dict(e["object"].data or {})))
                    if e["type"] == "DELETED":
                        return

            follower = asyncio.create_task(follow())
            await core.patch_namespaced_config_map("a1", namespace, {"data": {"k": "w"}})
            assert (await core.read_namespaced_config_map("a1", namespace)).data == {"k": "w"}
            await core.delete_namespaced_config_map("a1", namespace)
            await asyncio.wait_for(follower, 10)
            assert [(t, n) for t, n, _ in events] == [("MODIFIED", "a1"), ("DELETED", "a1")]
            assert events[0][2] == {"k": "w"}

            with pytest.raises(client.ApiException) as missing:
                await core.read_namespaced_config_map("a1", namespace)
            assert missing.value.status == 404 and json.loads(missing.value.body)["reason"] == "NotFound"

    asyncio.run(run())


def test_lightkube(server, namespace):
    from lightkube import ApiError, Client, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import ConfigMap, Namespace

    c = Client(config=KubeConfig.from_file(server.kubeconfig))
    assert namespace in [n.metadata.name for n in c.list(Namespace)]
    c.create(ConfigMap(metadata=ObjectMeta(name="lk1", namespace=namespace, labels={"app": "lk"}), data={"a": "1"}))
    c.patch(ConfigMap, "lk1", {"data": {"a": "2"}}, namespace=namespace)
    assert c.get(ConfigMap, "lk1", namespace=namespace).data == {"a": "2"}

    # Server-side apply: the field manager owns what it applied, and a second apply changes only that.
    applied = ConfigMap(apiVersion="v1", kind="ConfigMap", metadata=ObjectMeta(name="lk2", namespace=namespace), data={"x": "y"})
    c.apply(applied, field_manager="lightkube-test")
    applied.data = {"x": "z"}
    c.apply(applied, field_manager="lightkube-test")
    live = c.get(ConfigMap, "lk2", namespace=namespace)
    assert live.data == {"x": "z"}
    assert [(m.manager, m.operation) for m in live.metadata.managedFields] == [("lightkube-test", "Apply")]

    seen = []
    for op, obj in c.watch(ConfigMap, namespace=namespace, labels={"app": "lk"}, server_timeout=2):
        seen.append((op, obj.metadata.name))
        break
    assert seen == [("ADDED", "lk1")]
    assert list(c.list(ConfigMap, namespace=namespace, labels={"app": "nope"})) == []
    assert list(c.list(Deployment, namespace=namespace)) == []

    c.delete(ConfigMap, "lk1", namespace=namespace)
    with pytest.raises(ApiError) as missing:
        c.get(ConfigMap, "lk1", namespace=namespace)
    assert missing.value.status.code == 404 and missing.value.status.reason == "NotFound"


def test_kr8s(server, namespace):
    from kr8s.objects import ConfigMap

    api = kr8s.api(kubeconfig=server.kubeconfig)
    assert api.version()["minor"] == "32"
    # Kinds resolve through discovery, short names included.
    assert api.lookup_kind("deploy") == ("deployment.apps/v1", "deployments", True)
    assert api.lookup_kind("cm")[1] == "configmaps"

    cm = ConfigMap({"metadata": {"name": "k1", "namespace": namespace, "labels": {"app": "k"}}, "data": {"a": "1"}}, api=api)
    cm.create()
    cm.patch({"data": {"a": "2"}})
    cm.refresh()
    assert cm.raw["data"] == {"a": "2"}
    assert [o.name for o in api.get("configmaps", namespace=namespace, label_selector={"app": "k"})] == ["k1"]
    # kr8s's watch has no timeout: the first event (the object, ADDED) is enough.
    for event, obj in api.watch("configmaps", namespace=namespace, label_selector={"app": "k"}):
        assert (event, obj.name) == ("ADDED", "k1")
        break
    cm.delete()
    assert not cm.exists()
