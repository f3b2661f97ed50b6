"""A real Helm 4 engine (helm-sdkpy: Helm's Go code through its C bindings) installs, upgrades and uninstalls a chart
on the node: client-side and server-side apply, `--wait` (Helm's status watcher: a streaming-list reflector that
waits for the end-of-initial-events bookmark), and release records kept as Secrets."""
import asyncio
import base64
import gzip
import json
import os
import tempfile
import textwrap

import pytest

helm = pytest.importorskip("helm_sdkpy", reason="helm-sdkpy is installed by `make deps` into .build-venv")

CHART = {
    "Chart.yaml": """\
        apiVersion: v2
        name: hello
        version: 0.1.0
        appVersion: "1.0"
        """,
    "values.yaml": """\
        greeting: hello
        replicas: 1
        """,
    "templates/configmap.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
          labels:
            app.kubernetes.io/instance: {{ .Release.Name }}
        data:
          greeting: {{ .Values.greeting | quote }}
        """,
    "templates/deployment.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}-web
        spec:
          replicas: {{ .Values.replicas }}
          selector:
            matchLabels:
              app.kubernetes.io/instance: {{ .Release.Name }}
          template:
            metadata:
              labels:
                app.kubernetes.io/instance: {{ .Release.Name }}
            spec:
              containers:
              - name: web
                image: busybox
                command: [sh, -c, "echo $GREETING > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]
                env:
                - name: GREETING
                  valueFrom:
                    configMapKeyRef: {name: "{{ .Release.Name }}-config", key: greeting}
                readinessProbe:
                  tcpSocket: {port: 8080}
                  periodSeconds: 1
        """,
    "templates/service.yaml": """\
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ .Release.Name }}-svc
        spec:
          selector:
            app.kubernetes.io/instance: {{ .Release.Name }}
          ports:
          - port: 80
            targetPort: 8080
        """,
}


@pytest.fixture(scope="module")
def chart():
    root = tempfile.mkdtemp(prefix="tug-chart-")
    for path, text in CHART.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(textwrap.dedent(text))
    return root


def release_record(s, ns, name, revision):
    """Helm's release record: a Secret of type helm.sh/release.v1 holding base64(gzip(JSON))."""
    secret = json.loads(s.kubectl("get", "secret", f"sh.helm.release.v1.{name}.v{revision}", "-n", ns, "-o", "json").stdout)
    assert secret["type"] == "helm.sh/release.v1"
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def deployment(s, ns, name):
    return json.loads(s.kubectl("get", "deployment", name, "-n", ns, "-o", "json").stdout)


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side-apply", "server-side-apply"])
def test_install_upgrade_uninstall(node, pod_namespace, chart, server_side):
    s, ns = node, pod_namespace
    config = helm.Configuration(namespace=ns, kubeconfig=s.kubeconfig)

    async def run():
        installed = await helm.Install(config).run("demo", chart, values={"greeting": "hi"}, wait=True, timeout=120,
                                                   server_side_apply=server_side)
        assert installed["info"]["status"] == "deployed" and installed["version"] == 1
        # --wait returned only once the Deployment was available.
        d = deployment(s, ns, "demo-web")
        assert d["status"].get("availableReplicas") == 1, d["status"]
        assert [r["name"] for r in await helm.List(config).run()] == ["demo"]

        upgraded = await helm.Upgrade(config).run("demo", chart, values={"greeting": "bye", "replicas": 2}, wait=True, timeout=120)
        assert upgraded["version"] == 2 and upgraded["info"]["status"] == "deployed"
        assert await helm.GetValues(config).run("demo") == {"greeting": "bye", "replicas": 2}
        assert [h["version"] for h in await helm.History(config).run("demo")] == [1, 2]
        d = deployment(s, ns, "demo-web")
        assert d["spec"]["replicas"] == 2 and d["status"].get("availableReplicas") == 2, d["status"]
        cm = json.loads(s.kubectl("get", "configmap", "demo-config", "-n", ns, "-o", "json", "--show-managed-fields").stdout)
        assert cm["data"] == {"greeting": "bye"}
        assert release_record(s, ns, "demo", 2)["info"]["status"] == "deployed"
        assert release_record(s, ns, "demo", 1)["info"]["status"] == "superseded"
        if server_side:
            managers = {m["manager"] for m in cm["metadata"].get("managedFields", []) if m["operation"] == "Apply"}
            assert managers, cm["metadata"]

        await helm.Uninstall(config).run("demo", wait=True, timeout=120)
        assert not await helm.List(config).run()  # helm-sdkpy answers None for no release

    asyncio.run(run())
    left = s.kubectl("get", "deployment,service,configmap,secret", "-n", ns, "-l", "app.kubernetes.io/instance=demo", "-o", "name").stdout.split()
    assert left == []
    for kind, name in [("deployment", "demo-web"), ("service", "demo-svc"), ("configmap", "demo-config")]:
        assert s.kubectl("get", kind, name, "-n", ns, check=False).returncode != 0
    assert "sh.helm.release" not in s.kubectl("get", "secrets", "-n", ns, "-o", "name").stdout
