"""The built-in ingress controller with the real kubectl: the default IngressClass, host and path rules to
Services, the default 404, TLS termination from a Secret by SNI, and the address in the Ingress status. Requests go
to 127.0.0.1 on the test server's ingress ports."""
import http.client
import json
import socket
import ssl
import subprocess
import textwrap

from conftest import wait_until
from podhelpers import apply, httpd_deployment

APPS = "---\n".join([
    httpd_deployment(files={"index.html": "web $(hostname)", "docs/index.html": "docs"}),
    """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
""",
    httpd_deployment("other", replicas=1, port=9090, files={"docs/index.html": "other"}),
    """
apiVersion: v1
kind: Service
metadata: {name: other}
spec:
  selector: {app: other}
  ports: [{name: web, port: 9090}]
""",
])


def fetch(port, host, path, tls_context=None):
    """(status, body) of GET path at 127.0.0.1:port with this Host header (and, over TLS, this server name)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if tls_context:
        sock = tls_context.wrap_socket(sock, server_hostname=host)
    try:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read().decode().strip()
    finally:
        sock.close()


def test_ingress_routes_by_host_and_path_with_tls(node, pod_namespace, tmp_path):
    s, ns = node, pod_namespace
    apply(s, ns, APPS)
    s.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=90s", timeout=120)
    s.kubectl("rollout", "status", "deploy/other", "-n", ns, "--timeout=90s", timeout=120)
    host = f"{ns}.example.test"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={host}",
                    "-addext", f"subjectAltName=DNS:{host}", "-keyout", str(tmp_path / "tls.key"), "-out", str(tmp_path / "tls.crt")],
                   check=True, capture_output=True, timeout=60)
    s.kubectl("create", "secret", "tls", "site-tls", "-n", ns, f"--cert={tmp_path / 'tls.crt'}", f"--key={tmp_path / 'tls.key'}")
    apply(s, ns, textwrap.dedent(f"""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {{name: site}}
        spec:
          tls: [{{hosts: ["{host}"], secretName: site-tls}}]
          rules:
          - host: {host}
            http:
              paths:
              - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
              - {{path: /docs/index.html, pathType: Exact, backend: {{service: {{name: other, port: {{name: web}}}}}}}}
        """))
    ingress = json.loads(s.kubectl("get", "ingress", "site", "-n", ns, "-o", "json").stdout)
    assert ingress["spec"]["ingressClassName"] == "tug", "the default IngressClass is filled in"
    classes = json.loads(s.kubectl("get", "ingressclass", "tug", "-o", "json").stdout)
    assert classes["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"

    port = s.ingress_http_port
    pods = {p["metadata"]["name"] for p in json.loads(s.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o", "json").stdout)["items"]}
    seen = set()
    wait_until(lambda: seen.add(fetch(port, host, "/")) or {(200, f"web {p}") for p in pods} <= seen, 30,
               "both web replicas answer through the ingress")
    assert fetch(port, host, "/docs/index.html") == (200, "other")
    assert fetch(port, host, "/docs/") == (200, "docs"), "Exact does not match another path"
    status, body = fetch(port, "unknown.example.test", "/")
    assert status == 404 and "no Ingress rule" in body

    context = ssl.create_default_context(cafile=str(tmp_path / "tls.crt"))
    assert fetch(s.ingress_https_port, host, "/docs/index.html", tls_context=context) == (200, "other")

    node_ip = next(a["address"] for a in json.loads(s.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]["status"]["addresses"]
                   if a["type"] == "InternalIP")
    wait_until(lambda: json.loads(s.kubectl("get", "ingress", "site", "-n", ns, "-o", "json").stdout)["status"]
               .get("loadBalancer", {}).get("ingress") == [{"ip": node_ip}], 30, "the ingress address published")
    assert node_ip in s.kubectl("get", "ingress", "site", "-n", ns).stdout
