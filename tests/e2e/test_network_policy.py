"""NetworkPolicy enforced by the node agents, across two nodes: this server's own node and a `tug agent` joined
with a data dir of its own. Pods on both talk over the host's routes between the two pod bridges; each agent
enforces the policies of its own pods. Traffic stays inside this machine (pod addresses on our own bridges)."""
import json
import os
import random
import shutil
import subprocess
import tempfile

import pytest

from conftest import TUG, Server, free_port, iptables_rules, proxy_chain_prefix, wait_until
from podhelpers import apply, node_ready, running_ready, wait_pod


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        raise RuntimeError("the network policy tests need root (runc, iptables, network namespaces)")
    server = Server(agent=True).start()
    agent_dir = tempfile.mkdtemp(prefix="tug-e2e-agent-")
    log = open(os.path.join(agent_dir, "..", os.path.basename(agent_dir) + ".log"), "wb")
    agent = None
    try:
        wait_until(lambda: node_ready(server), 30, f"server node not Ready:\n{server.tail()}")
        token = open(os.path.join(server.data_dir, "server/node-token")).read().strip()
        cidr = f"10.42.{random.randint(200, 250)}.0/24"
        agent = subprocess.Popen([TUG, "agent", "--server", f"https://127.0.0.1:{server.port}", "--token", token, "--data-dir", agent_dir,
                                  "--agent-port", str(free_port()), "--node-name", "np-second", "--pod-cidr", cidr],
                                 stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: len(json.loads(server.kubectl("get", "nodes", "-o", "json").stdout)["items"]) == 2 and node_ready(server), 60,
                   "two nodes Ready")
        first = next(n["metadata"]["name"] for n in json.loads(server.kubectl("get", "nodes", "-o", "json").stdout)["items"]
                     if n["metadata"]["name"] != "np-second")
        server.first_node, server.second_node = first, "np-second"
        yield server
    finally:
        if agent:
            agent.terminate()
            agent.wait(timeout=30)
        reset = subprocess.run([TUG, "reset", "--data-dir", agent_dir], capture_output=True, text=True, timeout=300)
        shutil.rmtree(agent_dir, ignore_errors=True)
        server.cleanup()
        assert reset.returncode == 0, reset.stderr
        for data_dir in (server.data_dir, agent_dir):
            prefix = "TNP-" + proxy_chain_prefix(data_dir)[4:]
            assert not [line for line in iptables_rules() if prefix in line], "tug reset removes the policy chains"


def pod_manifest(name, node, labels, command, ports=()):
    spec = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", command],
                                     "ports": [{"name": n, "containerPort": p} for n, p in ports]}]}}
    return json.dumps(spec)


def reach(server, ns, pod, ip, port):
    result = server.kubectl("exec", pod, "-n", ns, "--", "timeout", "3", "wget", "-qO-", f"http://{ip}:{port}/", check=False, timeout=30)
    return result.returncode == 0 and "hello" in result.stdout


def await_reach(server, ns, pod, ip, port, expected, what):
    wait_until(lambda: reach(server, ns, pod, ip, port) == expected, 20, what, interval=0.3)


def policy(server, ns, text):
    apply(server, ns, text)


def test_default_deny_then_allow_across_nodes(cluster, request):
    s = cluster
    ns, other_ns = "np-deny", "np-elsewhere"
    for n in (ns, other_ns):
        s.kubectl("create", "namespace", n)
    request.addfinalizer(lambda: [s.kubectl("delete", "namespace", n, "--wait=false", check=False) for n in (ns, other_ns)])
    serve = "mkdir -p /www && echo hello > /www/index.html && httpd -p 80 -h /www && exec httpd -f -p 8080 -h /www"
    for name, node, labels, namespace in [("web", s.second_node, {"app": "web"}, ns), ("client", s.first_node, {"role": "client"}, ns),
                                          ("near", s.second_node, {"role": "client"}, ns), ("stranger", s.first_node, {}, ns),
                                          ("visitor", s.first_node, {"role": "client"}, other_ns)]:
        s.kubectl("apply", "-n", namespace, "-f", "-",
                  input=pod_manifest(name, node, labels, serve, [("http", 80), ("alt", 8080)]))
    pods = {name: wait_pod(s, namespace, name, running_ready, 60, "Running")
            for name, namespace in [("web", ns), ("client", ns), ("near", ns), ("stranger", ns), ("visitor", other_ns)]}
    web = pods["web"]["status"]["podIP"]
    assert pods["web"]["spec"]["nodeName"] != pods["client"]["spec"]["nodeName"]
    for name in ("client", "near", "stranger"):
        assert reach(s, ns, name, web, 80), f"{name} reaches web before any policy"
    assert reach(s, other_ns, "visitor", web, 8080)
    assert reach(s, ns, "client", pods["stranger"]["status"]["podIP"], 80)

    policy(s, ns, """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny}
        spec:
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Ingress]
        """)
    await_reach(s, ns, "client", web, 80, False, "default deny blocks a pod on the other node")
    assert not reach(s, ns, "near", web, 80), "and one on the same node"
    assert not reach(s, other_ns, "visitor", web, 8080)

    policy(s, ns, """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: clients-on-http}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress:
          - from: [{podSelector: {matchLabels: {role: client}}}]
            ports: [{port: http}]
        """)
    await_reach(s, ns, "client", web, 80, True, "the allow rule opens the named port for clients")
    assert reach(s, ns, "near", web, 80)
    assert not reach(s, ns, "client", web, 8080), "only that port"
    assert not reach(s, ns, "stranger", web, 80), "only for pods the selector picks"
    assert not reach(s, other_ns, "visitor", web, 80), "a podSelector alone means the policy's namespace"

    policy(s, ns, """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: visitors}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress:
          - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: np-elsewhere}}, podSelector: {matchLabels: {role: client}}}]
            ports: [{port: 8000, endPort: 8090}]
        """)
    await_reach(s, other_ns, "visitor", web, 8080, True, "namespaceSelector with podSelector and a port range")
    assert not reach(s, other_ns, "visitor", web, 80)

    # Egress: the client may only reach web's address on port 80 (an ipBlock), nothing else.
    policy(s, ns, f"""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {{name: client-egress}}
        spec:
          podSelector: {{matchLabels: {{role: client}}}}
          policyTypes: [Egress]
          egress:
          - to: [{{ipBlock: {{cidr: 10.42.0.0/16, except: ["{pods['stranger']['status']['podIP']}/32"]}}}}]
            ports: [{{port: 80}}]
        """)
    stranger = pods["stranger"]["status"]["podIP"]
    wait_until(lambda: not reach(s, ns, "client", stranger, 80), 20, "egress except blocks the stranger")
    assert reach(s, ns, "client", web, 80), "egress allows web on 80 and web's ingress allows the client"

    s.kubectl("delete", "networkpolicy", "--all", "-n", ns)
    await_reach(s, ns, "stranger", web, 80, True, "deleting the policies opens everything again")
    assert reach(s, ns, "client", web, 8080)
