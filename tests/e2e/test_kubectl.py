"""The real kubectl 1.32 against the real `tug server`: the commands a new user types."""
import json
import os
import queue
import subprocess
import threading
import tempfile
import time

import yaml

from conftest import wait_until

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        ports: [{containerPort: 80}, {containerPort: 443}]
      - name: sidecar
        image: busybox
"""


def write(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write(text)
    f.close()
    return f.name


def test_version_and_discovery(server):
    out = server.kubectl("version", "-o", "json").stdout
    assert json.loads(out)["serverVersion"]["minor"] == "32"
    resources = server.kubectl("api-resources").stdout
    for name in ["pods", "deployments", "statefulsets", "cronjobs", "ingresses", "leases", "endpointslices"]:
        assert name in resources
    all_out = server.kubectl("get", "all", "-A").stdout
    assert "service/kubernetes" in all_out
    assert server.kubectl("get", "--raw", "/healthz").stdout == "ok"


def test_create_get_describe_delete(server, namespace):
    ns = ["-n", namespace]
    server.kubectl("run", "tmp", "--image=busybox", *ns)
    get = server.kubectl("get", "pods", *ns).stdout.splitlines()
    assert get[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert get[1].split()[:3] == ["tmp", "0/1", "Pending"]
    wide = server.kubectl("get", "pods", "-o", "wide", *ns).stdout.splitlines()[0]
    assert "IP" in wide and "NOMINATED NODE" in wide and "READINESS GATES" in wide
    assert server.kubectl("get", "pods", "-A").stdout.startswith("NAMESPACE")
    described = server.kubectl("describe", "pod", "tmp", *ns).stdout
    assert "Name:" in described and "busybox" in described and "Events:" in described
    missing = server.kubectl("get", "pod", "nope", *ns, check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): pods "nope" not found' in missing.stderr
    assert server.kubectl("delete", "pod", "tmp", *ns).stdout.strip() == 'pod "tmp" deleted'
    assert server.kubectl("get", "pods", *ns).stderr.startswith("No resources found")


def test_apply_then_reapply_removes_env_and_port(server, namespace):
    ns = ["-n", namespace]
    path = write(DEPLOY)
    assert "deployment.apps/web created" in server.kubectl("apply", "-f", path, *ns).stdout
    second = yaml.safe_load(DEPLOY)
    c = second["spec"]["template"]["spec"]["containers"][0]
    c["env"] = [{"name": "A", "value": "1"}]
    c["ports"] = [{"containerPort": 80}]
    c["image"] = "nginx:1.26"
    second["spec"]["replicas"] = 3
    del second["spec"]["template"]["spec"]["containers"][1]
    assert "configured" in server.kubectl("apply", "-f", write(yaml.safe_dump(second)), *ns).stdout
    live = json.loads(server.kubectl("get", "deploy", "web", "-o", "json", *ns).stdout)
    containers = live["spec"]["template"]["spec"]["containers"]
    assert [x["name"] for x in containers] == ["nginx"]
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    assert [p["containerPort"] for p in containers[0]["ports"]] == [80]
    assert containers[0]["image"] == "nginx:1.26" and live["spec"]["replicas"] == 3
    assert "$" not in json.dumps(live)
    jp = server.kubectl("get", "deploy", "web", *ns, "-o",
                        "jsonpath={.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].env[0].name} {.spec.replicas}").stdout
    assert jp == "nginx A 3"
    # Re-applying the same file changes nothing.
    assert "unchanged" in server.kubectl("apply", "-f", write(yaml.safe_dump(second)), *ns).stdout


def test_diff_replace_and_edit(server, namespace):
    ns = ["-n", namespace]
    path = write(DEPLOY)
    server.kubectl("apply", "-f", path, *ns)
    changed = write(DEPLOY.replace("replicas: 2", "replicas: 5"))
    diff = server.kubectl("diff", "-f", changed, *ns, check=False)
    assert diff.returncode == 1 and "+  replicas: 5" in diff.stdout
    assert json.loads(server.kubectl("get", "deploy", "web", "-o", "json", *ns).stdout)["spec"]["replicas"] == 2, "diff is a dry run"
    live = server.kubectl("get", "deploy", "web", "-o", "yaml", *ns).stdout.replace("image: busybox", "image: busybox:1.36")
    assert "replaced" in server.kubectl("replace", "-f", write(live), *ns).stdout
    stale = server.kubectl("replace", "-f", write(live), *ns, check=False)
    assert stale.returncode != 0 and "Conflict" in stale.stderr
    editor = write("#!/bin/sh\nsed -i 's/replicas: 2/replicas: 4/' \"$1\"\n")
    os.chmod(editor, 0o755)
    assert "edited" in server.kubectl("edit", "deploy", "web", *ns, env={"KUBE_EDITOR": editor}).stdout
    assert json.loads(server.kubectl("get", "deploy", "web", "-o", "json", *ns).stdout)["spec"]["replicas"] == 4


def test_label_annotate_patch_scale(server, namespace):
    ns = ["-n", namespace]
    server.kubectl("apply", "-f", write(DEPLOY), *ns)
    server.kubectl("label", "deploy", "web", "tier=front", *ns)
    server.kubectl("annotate", "deploy", "web", "note=hello", *ns)
    server.kubectl("patch", "deploy", "web", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}', *ns)
    server.kubectl("patch", "deploy", "web", "--type=merge", "-p", '{"metadata":{"labels":{"tier":null}}}', *ns)
    server.kubectl("patch", "deploy", "web", "--type=json", "-p", '[{"op":"add","path":"/spec/minReadySeconds","value":5}]', *ns)
    server.kubectl("set", "image", "deploy/web", "sidecar=busybox:2", *ns)
    server.kubectl("scale", "deploy", "web", "--replicas=6", *ns)
    live = json.loads(server.kubectl("get", "deploy", "web", "-o", "json", *ns).stdout)
    assert "tier" not in live["metadata"]["labels"] and live["metadata"]["annotations"]["note"] == "hello"
    images = [c["image"] for c in live["spec"]["template"]["spec"]["containers"]]
    assert images == ["nginx:2", "busybox:2"]
    assert live["spec"]["minReadySeconds"] == 5 and live["spec"]["replicas"] == 6
    assert live["metadata"]["generation"] >= 5
    bad = server.kubectl("patch", "deploy", "web", "--type=json", "-p", '[{"op":"test","path":"/spec/replicas","value":1}]', *ns, check=False)
    assert bad.returncode != 0


def test_output_formats(server, namespace):
    ns = ["-n", namespace]
    server.kubectl("apply", "-f", write(DEPLOY), *ns)
    assert yaml.safe_load(server.kubectl("get", "deploy", "web", "-o", "yaml", *ns).stdout)["kind"] == "Deployment"
    assert json.loads(server.kubectl("get", "deploy", "-o", "json", *ns).stdout)["kind"] == "List"
    wide = server.kubectl("get", "deploy", "-o", "wide", *ns).stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and "app=web" in wide[1]
    cc = server.kubectl("get", "deploy", "-o", "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas", *ns).stdout.split()
    assert cc == ["NAME", "REPLICAS", "web", "2"]
    assert server.kubectl("get", "deploy", "-o", "name", *ns).stdout.strip() == "deployment.apps/web"
    shown = server.kubectl("get", "deploy", "--show-labels", *ns).stdout
    assert "app=web" in shown


def test_typed_create_commands_use_protobuf(server, namespace):
    ns = ["-n", namespace]
    assert server.kubectl("create", "configmap", "cm1", "--from-literal=a=b", *ns).stdout.strip() == "configmap/cm1 created"
    assert server.kubectl("create", "secret", "generic", "s1", "--from-literal=k=v", *ns).stdout.strip() == "secret/s1 created"
    assert server.kubectl("create", "deployment", "d2", "--image=nginx:1.25", "--replicas=2", "--port=80", *ns).stdout.strip() == "deployment.apps/d2 created"
    server.kubectl("create", "service", "clusterip", "svc1", "--tcp=80:8080", *ns)
    server.kubectl("create", "job", "j1", "--image=busybox", *ns, "--", "echo", "hi")
    server.kubectl("create", "cronjob", "cj1", "--image=busybox", "--schedule=*/5 * * * *", *ns)
    server.kubectl("create", "serviceaccount", "sa1", *ns)
    secret = json.loads(server.kubectl("get", "secret", "s1", "-o", "json", *ns).stdout)
    assert secret["data"] == {"k": "dg=="} and secret["type"] == "Opaque"
    d2 = json.loads(server.kubectl("get", "deploy", "d2", "-o", "json", *ns).stdout)
    assert d2["spec"]["replicas"] == 2 and d2["spec"]["template"]["spec"]["containers"][0]["ports"][0] == {"containerPort": 80, "protocol": "TCP"}
    svc = json.loads(server.kubectl("get", "svc", "svc1", "-o", "json", *ns).stdout)
    assert svc["spec"]["ports"][0]["targetPort"] == 8080 and svc["spec"]["clusterIP"].startswith(server.service_cidr.rsplit(".", 1)[0] + ".")
    job = json.loads(server.kubectl("get", "job", "j1", "-o", "json", *ns).stdout)
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    assert server.kubectl("create", "namespace", namespace + "-x").stdout.strip() == f"namespace/{namespace}-x created"
    server.kubectl("delete", "namespace", namespace + "-x")
    assert server.kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"


def test_errors_are_statuses(server, namespace):
    ns = ["-n", namespace]
    pod = write("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p2\nspec:\n  containers:\n  - name: c\n    image: busybox\n")
    assert server.kubectl("create", "-f", pod, *ns).stdout.strip() == "pod/p2 created"
    again = server.kubectl("create", "-f", pod, *ns, check=False)
    assert again.returncode == 1 and f'pods "p2" already exists' in again.stderr and "AlreadyExists" in again.stderr
    invalid = write("apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: c\n")
    out = server.kubectl("create", "-f", invalid, *ns, check=False)
    assert out.returncode == 1
    assert 'The Pod "Bad_Name" is invalid' in out.stderr
    assert "* metadata.name: Invalid value" in out.stderr and "* spec.containers[0].image: Required value" in out.stderr
    typo = write("apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: c\n    image: busybox\n    imagePullPolicyy: Always\n")
    strict = server.kubectl("create", "-f", typo, *ns, check=False)
    assert 'unknown field "spec.containers[0].imagePullPolicyy"' in strict.stderr
    missing_ns = server.kubectl("create", "configmap", "x", "-n", "does-not-exist", check=False)
    assert 'namespaces "does-not-exist" not found' in missing_ns.stderr


def test_server_side_apply_creates_and_updates(server, namespace):
    ns = ["-n", namespace]
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v\n"
    assert "serverside-applied" in server.kubectl("apply", "--server-side", "-f", write(cm), *ns).stdout
    server.kubectl("apply", "--server-side", "-f", write(cm.replace("k: v", "k: w\n  m: \"1\"")), *ns)
    data = json.loads(server.kubectl("get", "cm", "ssa", "-o", "json", *ns).stdout)["data"]
    assert data == {"k": "w", "m": "1"}
    # Fields the manager applied before and no longer applies are removed; fields set by others stay.
    server.kubectl("label", "cm", "ssa", "owner=someone-else", *ns)
    server.kubectl("apply", "--server-side", "-f", write(cm.replace("k: v", "m: \"2\"")), *ns)
    live = json.loads(server.kubectl("get", "cm", "ssa", "-o", "json", "--show-managed-fields", *ns).stdout)
    assert live["data"] == {"m": "2"}
    assert live["metadata"]["labels"]["owner"] == "someone-else"
    assert [m["manager"] for m in live["metadata"]["managedFields"]] == ["kubectl"]
    # Another manager setting the same field to another value conflicts, unless it forces.
    other = write(cm.replace("k: v", 'm: "3"'))
    conflict = server.kubectl("apply", "--server-side", "--field-manager=other", "-f", other, *ns, check=False)
    assert conflict.returncode != 0 and 'conflict with "kubectl"' in conflict.stderr and ".data.m" in conflict.stderr
    server.kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", other, *ns)
    assert json.loads(server.kubectl("get", "cm", "ssa", "-o", "json", *ns).stdout)["data"]["m"] == "3"


def test_get_watch_streams_events(server, namespace):
    ns = ["-n", namespace]
    watcher = subprocess.Popen(["kubectl", "--kubeconfig", server.kubeconfig, "--cache-dir", server.cache_dir, "get", "pods", "-w", *ns],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(l) for l in watcher.stdout], daemon=True)
    reader.start()
    try:
        server.kubectl("run", "w1", "--image=busybox", *ns)
        server.kubectl("label", "pod", "w1", "x=y", *ns)
        server.kubectl("delete", "pod", "w1", *ns)
        rows = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(rows) < 3:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("w1"):
                rows.append(line)
        assert len(rows) >= 3, rows
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)


def test_namespace_deletion_removes_contents(server):
    server.kubectl("create", "namespace", "doomed")
    server.kubectl("create", "configmap", "c", "-n", "doomed")
    server.kubectl("apply", "-f", write(DEPLOY), "-n", "doomed")
    out = server.kubectl("delete", "namespace", "doomed", timeout=60)
    assert out.stdout.strip() == 'namespace "doomed" deleted'
    assert server.kubectl("get", "namespace", "doomed", check=False).returncode == 1
    assert server.kubectl("create", "namespace", "doomed").returncode == 0
    assert server.kubectl("get", "cm", "c", "-n", "doomed", check=False).returncode == 1
    server.kubectl("delete", "namespace", "doomed")


def test_explain_uses_openapi(server):
    out = server.kubectl("explain", "deployment.spec.replicas").stdout
    assert "replicas" in out and "integer" in out


def test_service_account_tokens(server, namespace):
    ns = ["-n", namespace]
    wait_until(lambda: server.kubectl("get", "serviceaccount", "default", *ns, check=False).returncode == 0, 20,
               "the default service account was not created")
    token = server.kubectl("create", "token", "default", *ns).stdout.strip()
    as_sa = ["--kubeconfig", "/dev/null", "--server", f"https://127.0.0.1:{server.port}",
             "--certificate-authority", os.path.join(server.data_dir, "server/tls/ca.crt"), "--token", token]
    who = subprocess.run(["kubectl", "--cache-dir", server.cache_dir, *as_sa, "auth", "whoami"], capture_output=True, text=True, timeout=60)
    assert f"system:serviceaccount:{namespace}:default" in who.stdout, who.stderr
    assert "admin" in server.kubectl("auth", "whoami").stdout
    server.kubectl("delete", "serviceaccount", "default", *ns)
    revoked = subprocess.run(["kubectl", "--cache-dir", server.cache_dir, *as_sa, "get", "pods"], capture_output=True, text=True, timeout=60)
    assert revoked.returncode != 0 and "Unauthorized" in revoked.stderr
    short = server.kubectl("create", "token", "default", "--duration=1m", *ns, check=False)
    assert short.returncode != 0


def test_default_service_account_comes_back(server, namespace):
    ns = ["-n", namespace]
    wait_until(lambda: server.kubectl("get", "serviceaccount", "default", *ns, check=False).returncode == 0, 20,
               "the default service account was not created")
    old_uid = json.loads(server.kubectl("get", "sa", "default", "-o", "json", *ns).stdout)["metadata"]["uid"]
    server.kubectl("delete", "sa", "default", *ns)
    def recreated():
        got = server.kubectl("get", "sa", "default", "-o", "json", *ns, check=False)
        return got.returncode == 0 and json.loads(got.stdout)["metadata"]["uid"] != old_uid

    wait_until(recreated, 20, "the default service account was not re-created")
