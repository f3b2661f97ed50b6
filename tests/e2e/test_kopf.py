"""An operator written with kopf runs against the real server: it watches ConfigMaps, adds its finalizer, keeps its
state in annotations, creates an owned child, follows updates, posts events, runs its delete handler before the
object goes, and the garbage collector removes the child."""
import asyncio
import json
import os
import threading

import pytest

from conftest import wait_until

kopf = pytest.importorskip("kopf", reason="installed by `make deps` into .build-venv")


def run_operator(server, namespace, registry, stop):
    @kopf.on.login(registry=registry)
    def login(**_):
        return kopf.ConnectionInfo(server=f"https://127.0.0.1:{server.port}", token=server.token(), default_namespace=namespace,
                                   ca_path=os.path.join(server.data_dir, "server/tls/ca.crt"))

    @kopf.on.startup(registry=registry)
    def configure(settings, **_):
        settings.watching.server_timeout = 30
        settings.persistence.finalizer = "tugboat.test/kopf"

    asyncio.run(kopf.operator(registry=registry, standalone=True, namespaces=[namespace], clusterwide=False, stop_flag=stop))


def test_operator_lifecycle(server, namespace):
    from kubernetes import client, config
    core = client.CoreV1Api(config.new_client_from_config(config_file=server.kubeconfig))
    registry = kopf.OperatorRegistry()

    @kopf.on.create("configmaps", labels={"kopf-test": "yes"}, registry=registry)
    def created(body, name, namespace, **_):
        child = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name + "-child"}, "data": dict(body.get("data") or {})}
        kopf.append_owner_reference(child, owner=body)
        core.create_namespaced_config_map(namespace, child)
        kopf.info(body, reason="ChildCreated", message=f"created {name}-child")

    @kopf.on.update("configmaps", labels={"kopf-test": "yes"}, field="data", registry=registry)
    def updated(new, name, namespace, **_):
        core.patch_namespaced_config_map(name + "-child", namespace, {"data": dict(new or {})})

    @kopf.on.delete("configmaps", labels={"kopf-test": "yes"}, registry=registry)
    def deleted(name, namespace, **_):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name + "-farewell"}})

    stop = threading.Event()
    operator = threading.Thread(target=run_operator, args=(server, namespace, registry, stop), daemon=True)
    operator.start()

    def read(name):
        try:
            return core.read_namespaced_config_map(name, namespace)
        except client.ApiException as e:
            if e.status == 404:
                return None
            raise

    try:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "src", "labels": {"kopf-test": "yes"}}, "data": {"a": "1"}})
        child = wait_until(lambda: read("src-child"), 30, "the operator creates the child")
        assert child.data == {"a": "1"} and [o.name for o in child.metadata.owner_references] == ["src"]
        # kopf records what it handled after the handler returns, so the child can be seen before the annotation.
        src = wait_until(lambda: (o := read("src")).metadata.annotations and "kopf.zalando.org/last-handled-configuration" in o.metadata.annotations
                         and o, 30, "the operator records the handled configuration")
        assert "tugboat.test/kopf" in src.metadata.finalizers
        assert json.loads(src.metadata.annotations["kopf.zalando.org/last-handled-configuration"])["data"] == {"a": "1"}
        events = wait_until(lambda: core.list_namespaced_event(namespace, field_selector="involvedObject.name=src").items, 30,
                            "the operator's event is posted")
        assert [(e.reason, e.message) for e in events] == [("ChildCreated", "created src-child")]

        core.patch_namespaced_config_map("src", namespace, {"data": {"a": "2"}})
        wait_until(lambda: read("src-child").data == {"a": "2"}, 30, "the operator follows the update")

        core.delete_namespaced_config_map("src", namespace)
        wait_until(lambda: read("src-farewell"), 30, "the delete handler runs while the finalizer holds the object")
        wait_until(lambda: read("src") is None, 30, "the object goes once the operator removes its finalizer")
        wait_until(lambda: read("src-child") is None, 30, "the garbage collector removes the owned child")
    finally:
        stop.set()
        operator.join(30)
    assert not operator.is_alive(), "kopf did not stop"
