"""Helpers for the pod end-to-end tests: the agent-backed server fixture lives in conftest (`node`)."""
import json
import textwrap

from conftest import wait_until


def node_ready(s):
    """Every node reports Ready=True. A node just registered has no status yet (its agent writes it next): not Ready."""
    nodes = json.loads(s.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    def ready(n):
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in n.get("status", {}).get("conditions", []))
    return bool(nodes) and all(ready(n) for n in nodes)


def pod(s, ns, name):
    """The pod as JSON (with an empty `status` until the first status write), or None."""
    result = s.kubectl("get", "pod", name, "-n", ns, "-o", "json", check=False)
    if result.returncode != 0:
        return None
    p = json.loads(result.stdout)
    p.setdefault("status", {})
    return p


def wait_pod(s, ns, name, predicate, timeout, what):
    def check():
        p = pod(s, ns, name)
        return p if p and predicate(p) else None
    try:
        return wait_until(check, timeout, f"pod {ns}/{name}: {what}", interval=0.2)
    except AssertionError:
        p = pod(s, ns, name)
        raise AssertionError(f"pod {ns}/{name}: {what}\nstatus: {json.dumps(p and p.get('status'), indent=1)}\nserver log:\n{s.tail()}")


def running_ready(p):
    statuses = p["status"].get("containerStatuses", [])
    return p["status"].get("phase") == "Running" and statuses and all(c.get("ready") for c in statuses)


def container(p, name=None):
    """The status of container `name` (or the first one); an empty dict before the agent reported any."""
    statuses = p["status"].get("containerStatuses", [])
    return next((c for c in statuses if name is None or c["name"] == name), {"state": {}, "lastState": {}})


def apply(s, ns, manifest):
    s.kubectl("apply", "-n", ns, "-f", "-", input=textwrap.dedent(manifest))





def httpd_deployment(name="web", replicas=2, port=8080, files=None):
    """A Deployment of busybox httpd pods labelled app=<name>, serving /www on `port` (named http) with a TCP
    readiness probe. `files` maps paths under /www to the shell text echoed into them; by default index.html holds
    the pod's hostname, so a client can tell the replicas apart."""
    files = files or {"index.html": "$(hostname)"}
    writes = "; ".join(f'mkdir -p $(dirname /www/{path}); echo "{text}" > /www/{path}' for path, text in files.items())
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: {name}
        image: busybox
        command: [sh, -c, '{writes}; exec httpd -f -p {port} -h /www']
        ports: [{{name: http, containerPort: {port}}}]
        readinessProbe: {{tcpSocket: {{port: {port}}}, periodSeconds: 1}}
"""
