"""Service networking end to end with the real kubectl: the iptables proxy (ClusterIP from the host and from pods,
NodePort and LoadBalancer on 127.0.0.1, hairpin, session affinity, REJECT without endpoints, rules gone with the
Service) and cluster DNS (names, SRV, PTR, headless StatefulSet pods, NXDOMAIN, TCP). All traffic goes to loopback,
the node's own addresses and addresses inside the cluster's network namespaces."""
import json
import socket
import struct
import textwrap
import time
import urllib.request

from conftest import iptables_rules, proxy_chain_prefix, wait_until
from podhelpers import apply, httpd_deployment, running_ready, wait_pod

WEB_SERVICE = """
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: http}]
    """


def get(s, ns, kind, name):
    return json.loads(s.kubectl("get", kind, name, "-n", ns, "-o", "json").stdout)


def http(url, timeout=3):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode().strip()
    except OSError:
        return None


def web_pods(s, ns):
    return sorted(p["metadata"]["name"] for p in json.loads(s.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o", "json").stdout)["items"])


def deploy_web(s, ns, service=WEB_SERVICE):
    apply(s, ns, httpd_deployment() + "---\n" + textwrap.dedent(service))
    s.kubectl("rollout", "status", "deploy/web", "-n", ns, "--timeout=90s", timeout=120)
    wait_until(lambda: len(get(s, ns, "endpoints", "web").get("subsets", [{}])[0].get("addresses", [])) == 2, 30, "two ready endpoints")
    return web_pods(s, ns)


def client_pod(s, ns):
    s.kubectl("run", "client", "-n", ns, "--image=busybox", "--restart=Never",
              "--overrides", json.dumps({"spec": {"terminationGracePeriodSeconds": 1}}), "--", "sleep", "3600")
    wait_pod(s, ns, "client", running_ready, 60, "client Running")


def in_pod(s, ns, script, pod="client", check=True):
    return s.kubectl("exec", pod, "-n", ns, "--", "sh", "-c", script, check=check, timeout=60)


def seen_backends(fetch, want, timeout=30):
    """Fetches until every backend in `want` answered (random balancing), or fails at the deadline."""
    seen = []

    def fetched_all():
        seen.append(fetch())
        return want <= set(seen)
    try:
        wait_until(fetched_all, timeout, "answers from every backend", interval=0)
    except AssertionError as error:
        raise AssertionError(f"{error}: wanted {sorted(want)}, the last answers were {seen[-5:]}") from None
    return set(seen)


def test_cluster_ip_from_the_host_and_from_a_pod_by_name(node, pod_namespace):
    s, ns = node, pod_namespace
    pods = deploy_web(s, ns)
    ip = get(s, ns, "service", "web")["spec"]["clusterIP"]
    seen_backends(lambda: http(f"http://{ip}/index.html"), set(pods))

    client_pod(s, ns)
    # Both replicas answer through the Service name (search path of the pod's resolv.conf) and the full name.
    seen_backends(lambda: (lambda r: r.stdout.strip() or r.stderr.strip())(in_pod(s, ns, "wget -qO- http://web/index.html", check=False)), set(pods))
    assert in_pod(s, ns, f"wget -qO- http://web.{ns}.svc.cluster.local/index.html").stdout.strip() in pods
    resolv = in_pod(s, ns, "cat /etc/resolv.conf").stdout
    dns_ip = get(s, "kube-system", "service", "kube-dns")["spec"]["clusterIP"]
    assert f"nameserver {dns_ip}" in resolv and f"search {ns}.svc.cluster.local svc.cluster.local cluster.local" in resolv and "ndots:5" in resolv

    # The API server through the kubernetes Service, as in-cluster clients reach it.
    version = in_pod(s, ns, "wget -qO- --no-check-certificate https://kubernetes.default.svc/version").stdout
    assert json.loads(version)["major"] == "1"

    # Hairpin: a backend reaching itself through its own Service.
    seen_backends(lambda: in_pod(s, ns, "wget -qO- http://web/index.html", pod=pods[0], check=False).stdout.strip(), {pods[0]})


def test_node_port_load_balancer_and_session_affinity(node, pod_namespace):
    s, ns = node, pod_namespace
    lb_port = 30000 + hash(ns) % 2000  # a port of its own, outside the node-port range in use here
    pods = deploy_web(s, ns, f"""
        apiVersion: v1
        kind: Service
        metadata: {{name: web}}
        spec:
          type: LoadBalancer
          selector: {{app: web}}
          ports: [{{name: http, port: {lb_port + 10000}, targetPort: http}}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {{name: sticky}}
        spec:
          type: NodePort
          selector: {{app: web}}
          sessionAffinity: ClientIP
          ports: [{{name: http, port: 80, targetPort: http}}]
        """)
    web = get(s, ns, "service", "web")
    node_port = web["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767
    seen_backends(lambda: http(f"http://127.0.0.1:{node_port}/index.html"), set(pods))
    seen_backends(lambda: http(f"http://127.0.0.1:{lb_port + 10000}/index.html"), set(pods))
    node_ip = next(a["address"] for a in json.loads(s.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]["status"]["addresses"]
                   if a["type"] == "InternalIP")
    wait_until(lambda: get(s, ns, "service", "web")["status"].get("loadBalancer", {}).get("ingress") == [{"ip": node_ip, "ipMode": "VIP"}],
               30, "LoadBalancer ingress is the node address")
    assert http(f"http://{node_ip}:{node_port}/index.html") in pods

    # ClientIP affinity: one client sticks to one backend (without it, 20 answers from one of two backends would
    # happen once in half a million runs).
    sticky = get(s, ns, "service", "sticky")
    answers = {http(f"http://{sticky['spec']['clusterIP']}/index.html") for _ in range(20)}
    assert len(answers) == 1 and answers <= set(pods)
    answers = {http(f"http://127.0.0.1:{sticky['spec']['ports'][0]['nodePort']}/index.html") for _ in range(20)}
    assert len(answers) == 1 and answers <= set(pods)


def test_scaling_to_zero_rejects_and_deleting_removes_the_rules(node, pod_namespace):
    s, ns = node, pod_namespace
    pods = deploy_web(s, ns)
    ip = get(s, ns, "service", "web")["spec"]["clusterIP"]
    assert http(f"http://{ip}/index.html") in pods
    prefix = proxy_chain_prefix(s.data_dir)
    assert any(prefix in line and f"{ns}/web:http cluster IP" in line for line in iptables_rules())

    s.kubectl("scale", "deploy/web", "-n", ns, "--replicas=0")
    wait_until(lambda: not get(s, ns, "endpoints", "web").get("subsets"), 60, "endpoints emptied")

    def refused():
        try:
            socket.create_connection((ip, 80), timeout=3).close()
            return False
        except ConnectionRefusedError:
            return True
        except OSError:
            # Still routed to a pod that is terminating (serving until it stops), which no longer answers.
            return False
    # No endpoints: the connection is refused at once (REJECT), not left to time out or routed off the machine.
    wait_until(refused, 30, "connection refused without endpoints")

    s.kubectl("delete", "service", "web", "-n", ns)
    wait_until(lambda: not any(f"{ns}/web:" in line for line in iptables_rules()), 30, "the Service's rules removed")


def dns_query(name, qtype, tcp=False, server=None, port=53):
    """A raw DNS query (RFC 1035) from the host; returns (rcode, answer count, response bytes)."""
    question = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0" + struct.pack(">HH", qtype, 1)
    message = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + question
    if tcp:
        with socket.create_connection((server, port), timeout=5) as sock:
            sock.sendall(struct.pack(">H", len(message)) + message)
            length = struct.unpack(">H", sock.recv(2))[0]
            data = b""
            while len(data) < length:
                data += sock.recv(length - len(data))
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            sock.sendto(message, (server, port))
            data = sock.recv(4096)
    flags, _, answers = struct.unpack(">HHH", data[2:8])
    return flags & 0xF, answers, data


def test_cluster_dns(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, """
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          clusterIP: None
          selector: {app: db}
          ports: [{name: pg, port: 5432}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          replicas: 2
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: c, image: busybox, command: [sleep, "3600"], ports: [{name: pg, containerPort: 5432}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: api}
        spec:
          selector: {app: none}
          ports: [{name: http, port: 8080}]
        """)
    s.kubectl("rollout", "status", "sts/db", "-n", ns, "--timeout=90s", timeout=120)
    client_pod(s, ns)
    api_ip = get(s, ns, "service", "api")["spec"]["clusterIP"]
    db_ips = {p["metadata"]["name"]: p["status"]["podIP"] for p in json.loads(s.kubectl("get", "pods", "-n", ns, "-l", "app=db", "-o", "json").stdout)["items"]}

    out = in_pod(s, ns, f"nslookup api.{ns}.svc.cluster.local").stdout
    assert api_ip in out
    # Headless: the StatefulSet pods by name, and the Service name answers every ready pod.
    wait_until(lambda: db_ips["db-0"] in in_pod(s, ns, f"nslookup db-0.db.{ns}.svc.cluster.local", check=False).stdout, 30, "db-0 resolves")
    out = in_pod(s, ns, f"nslookup db.{ns}.svc.cluster.local").stdout
    assert db_ips["db-0"] in out and db_ips["db-1"] in out
    out = in_pod(s, ns, f"nslookup -type=srv _http._tcp.api.{ns}.svc.cluster.local").stdout
    assert f"0 100 8080 api.{ns}.svc.cluster.local" in out
    out = in_pod(s, ns, f"nslookup {api_ip}").stdout
    assert f"api.{ns}.svc.cluster.local" in out
    missing = in_pod(s, ns, f"nslookup nosuch.{ns}.svc.cluster.local", check=False)
    assert missing.returncode != 0 and "NXDOMAIN" in missing.stdout + missing.stderr

    # From the host, over UDP and TCP, to the kube-dns cluster IP.
    dns_ip = get(s, "kube-system", "service", "kube-dns")["spec"]["clusterIP"]
    rcode, answers, _ = dns_query(f"api.{ns}.svc.cluster.local", 1, server=dns_ip)
    assert (rcode, answers) == (0, 1)
    rcode, answers, data = dns_query(f"api.{ns}.svc.cluster.local", 1, tcp=True, server=dns_ip)
    assert (rcode, answers) == (0, 1) and bytes(int(x) for x in api_ip.split(".")) in data
    started = time.monotonic()
    rcode, answers, _ = dns_query(f"nosuch.{ns}.svc.cluster.local", 1, server=dns_ip)
    assert (rcode, answers) == (3, 0) and time.monotonic() - started < 5
