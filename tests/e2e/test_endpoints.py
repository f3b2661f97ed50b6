"""Endpoints and EndpointSlices follow a Service's ready pods: named and numeric target ports, multi-port services,
readiness, scaling to zero and deletion."""
import json

from conftest import wait_until
from podhelpers import apply


def endpoints(s, ns, name):
    result = s.kubectl("get", "endpoints", name, "-n", ns, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def slices(s, ns, service):
    return json.loads(s.kubectl("get", "endpointslices", "-n", ns, "-l", f"kubernetes.io/service-name={service}", "-o", "json").stdout)["items"]


def test_endpoints_follow_ready_pods(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox
                command: [sh, -c, "mkdir -p /www; echo hi > /www/index.html; httpd -f -p 8080 -h /www"]
                ports: [{name: http, containerPort: 8080}]
                readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}, {name: raw, port: 9000, targetPort: 8080}]
        """)
    s.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=60s", timeout=70)
    pods = json.loads(s.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o", "json").stdout)["items"]
    ips = sorted(p["status"]["podIP"] for p in pods)

    def ready_ips():
        ep = endpoints(s, ns, "web")
        return sorted(a["ip"] for sub in (ep or {}).get("subsets", []) for a in sub.get("addresses", []))
    wait_until(lambda: ready_ips() == ips, 30, "both pods in the Endpoints")
    subset = endpoints(s, ns, "web")["subsets"][0]
    assert sorted((p["name"], p["port"]) for p in subset["ports"]) == [("http", 8080), ("raw", 8080)]
    (eps,) = slices(s, ns, "web")
    assert sorted(e["addresses"][0] for e in eps["endpoints"]) == ips
    assert all(e["conditions"]["ready"] for e in eps["endpoints"])
    assert eps["metadata"]["ownerReferences"][0]["kind"] == "Service"

    # Pods started after the Service see its service-link variables.
    s.kubectl("run", "client", "-n", ns, "--image=busybox", "--restart=Never", "--", "sh", "-c", "env")
    wait_until(lambda: "WEB_SERVICE_HOST=" in s.kubectl("logs", "client", "-n", ns, check=False).stdout, 30, "service links")
    env = dict(line.split("=", 1) for line in s.kubectl("logs", "client", "-n", ns).stdout.splitlines() if "=" in line)
    cluster_ip = json.loads(s.kubectl("get", "service", "web", "-n", ns, "-o", "json").stdout)["spec"]["clusterIP"]
    assert env["WEB_SERVICE_HOST"] == cluster_ip and env["WEB_SERVICE_PORT"] == "80" and env["WEB_SERVICE_PORT_RAW"] == "9000"
    assert env["WEB_PORT_9000_TCP"] == f"tcp://{cluster_ip}:9000"
    assert env["KUBERNETES_SERVICE_HOST"] == s.service_cidr.rsplit(".", 1)[0] + ".1"

    # A pod that stops being ready moves to notReadyAddresses.
    victim = pods[0]["metadata"]["name"]
    s.kubectl("exec", victim, "-n", ns, "--", "rm", "/www/index.html")
    wait_until(lambda: [a["ip"] for sub in endpoints(s, ns, "web").get("subsets", []) for a in sub.get("notReadyAddresses", [])]
               == [pods[0]["status"]["podIP"]], 30, "the unready pod set aside")

    # Scaling to zero empties them; deleting the Service removes them.
    s.kubectl("scale", "deploy/web", "-n", ns, "--replicas=0")
    wait_until(lambda: not endpoints(s, ns, "web").get("subsets"), 30, "no endpoints at zero replicas")
    wait_until(lambda: [len(x.get("endpoints") or []) for x in slices(s, ns, "web")] == [0], 30, "an empty placeholder slice")
    s.kubectl("delete", "service", "web", "-n", ns)
    wait_until(lambda: endpoints(s, ns, "web") is None and not slices(s, ns, "web"), 30, "endpoints gone with the Service")
