"""`tug agent` joining a server by token as its own process: node registration, lease, labels, taints and pod CIDR."""
import json
import os
import random
import subprocess

from conftest import TUG, Server, free_port, iptables_rules, proxy_chain_prefix, wait_until
from podhelpers import node_ready, wait_pod


def test_agent_joins_by_token(tmp_path):
    server = Server().start()  # control plane only (--disable-agent)
    agent = None
    try:
        token = open(os.path.join(server.data_dir, "server/node-token")).read().strip()
        assert token.startswith("T1") and "::" in token
        cidr = f"10.42.{random.randint(200, 250)}.0/24"
        log = open(tmp_path / "agent.log", "wb")
        agent = subprocess.Popen([TUG, "agent", "--server", f"https://127.0.0.1:{server.port}", "--token", token,
                                  "--data-dir", server.data_dir, "--agent-port", str(free_port()), "--node-name", "edge-1",
                                  "--node-label", "tier=edge", "--node-taint", "dedicated=edge:NoSchedule", "--pod-cidr", cidr],
                                 stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: node_ready(server), 30, "joined node Ready")
        # Its service proxy programs the cluster's Services (kubernetes, kube-dns) under its own chain prefix.
        prefix = proxy_chain_prefix(server.data_dir)
        wait_until(lambda: any(prefix in line and "default/kubernetes:https" in line for line in iptables_rules()), 30, "the agent's proxy rules")
        node = json.loads(server.kubectl("get", "node", "edge-1", "-o", "json").stdout)
        assert node["metadata"]["labels"]["tier"] == "edge"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "edge-1"
        assert node["spec"]["taints"] == [{"key": "dedicated", "value": "edge", "effect": "NoSchedule"}]
        assert node["spec"]["podCIDR"] == cidr
        info = node["status"]["nodeInfo"]
        assert set(info) >= {"architecture", "bootID", "containerRuntimeVersion", "kernelVersion", "kubeProxyVersion",
                             "kubeletVersion", "machineID", "operatingSystem", "osImage", "systemUUID"}
        assert {"cpu", "memory", "pods", "ephemeral-storage"} <= set(node["status"]["capacity"])
        assert [c["type"] for c in node["status"]["conditions"]] == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        lease = json.loads(wait_until(lambda: (r := server.kubectl("get", "lease", "edge-1", "-n", "kube-node-lease", "-o", "json", check=False)).returncode == 0
                                      and r, 10, "the node's lease").stdout)
        assert lease["spec"]["holderIdentity"] == "edge-1" and lease["spec"]["renewTime"]

        server.kubectl("create", "namespace", "edge")
        server.kubectl("run", "untolerated", "-n", "edge", "--image=busybox", "--", "sleep", "3600")
        p = wait_pod(server, "edge", "untolerated",
                     lambda p: any(c["type"] == "PodScheduled" and c["status"] == "False" for c in p["status"].get("conditions", [])),
                     30, "Unschedulable")
        message = next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")["message"]
        assert message == ("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: edge}. "
                           "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")
        overrides = json.dumps({"spec": {"terminationGracePeriodSeconds": 1, "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "edge", "effect": "NoSchedule"}]}})
        server.kubectl("run", "tolerated", "-n", "edge", "--image=busybox", f"--overrides={overrides}", "--", "sleep", "3600")
        p = wait_pod(server, "edge", "tolerated", lambda p: p["status"].get("phase") == "Running", 30, "Running on the joined node")
        assert p["spec"]["nodeName"] == "edge-1"
        assert p["status"]["podIP"].startswith(cidr.rsplit(".", 1)[0] + ".")
        server.kubectl("delete", "namespace", "edge", "--wait=true", timeout=120)
    finally:
        if agent:
            agent.terminate()
            agent.wait(timeout=30)
        server.stop()
        reset = subprocess.run([TUG, "reset", "--data-dir", server.data_dir], capture_output=True, text=True, timeout=300)
        assert reset.returncode == 0, reset.stderr
        # Reset removes the joined agent's proxy chains and jumps.
        prefix = proxy_chain_prefix(server.data_dir)
        assert not [line for line in iptables_rules() if prefix in line]
        server.cleanup()


def test_agent_refuses_a_wrong_token(tmp_path):
    server = Server().start()
    try:
        bad = "T1" + "0" * 64 + "::secret"
        result = subprocess.run([TUG, "agent", "--server", f"https://127.0.0.1:{server.port}", "--token", bad,
                                 "--data-dir", str(tmp_path), "--agent-port", str(free_port())],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "the server's CA does not match the join token" in result.stderr
    finally:
        server.cleanup()


def test_a_silent_node_becomes_unreachable_and_recovers(tmp_path):
    server = Server(extra_args=["--node-monitor-grace-period", "3s"]).start()
    token = open(os.path.join(server.data_dir, "server/node-token")).read().strip()
    cidr = f"10.42.{random.randint(200, 250)}.0/24"
    args = [TUG, "agent", "--server", f"https://127.0.0.1:{server.port}", "--token", token, "--data-dir", server.data_dir,
            "--agent-port", str(free_port()), "--node-name", "flaky", "--pod-cidr", cidr, "--node-lease-duration-seconds", "2"]
    agent = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: node_ready(server), 30, "node Ready")

        def node():
            return json.loads(server.kubectl("get", "node", "flaky", "-o", "json").stdout)

        def ready_status(n):
            return next(c for c in n["status"]["conditions"] if c["type"] == "Ready")

        # A Deployment's pod that tolerates an unreachable node for 2 s only.
        server.kubectl("create", "namespace", "evict")
        server.kubectl("apply", "-n", "evict", "-f", "-", input="""
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]
      containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
""")
        server.kubectl("rollout", "status", "deploy/app", "-n", "evict", "--timeout=60s", timeout=70)
        (original,) = json.loads(server.kubectl("get", "pods", "-n", "evict", "-o", "json").stdout)["items"]
        defaults = [t for t in original["spec"]["tolerations"] if t["key"] == "node.kubernetes.io/not-ready"]
        assert defaults == [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]

        agent.kill()  # kill -9: no more lease renewals
        agent.wait()

        def unreachable(n):
            effects = {t["effect"] for t in n["spec"].get("taints", []) if t["key"] == "node.kubernetes.io/unreachable"}
            return n if ready_status(n)["status"] == "Unknown" and effects == {"NoSchedule", "NoExecute"} else None
        n = wait_until(lambda: unreachable(node()), 30, "Ready=Unknown with the unreachable taints")
        assert ready_status(n)["reason"] == "NodeStatusUnknown"

        # After its 2 s the pod is evicted and the ReplicaSet makes a replacement.
        def pods():
            return json.loads(server.kubectl("get", "pods", "-n", "evict", "-o", "json").stdout)["items"]
        wait_until(lambda: any(p["metadata"]["uid"] == original["metadata"]["uid"] and p["metadata"].get("deletionTimestamp") for p in pods()),
                   30, "the pod marked for deletion")
        wait_until(lambda: any(p["metadata"]["uid"] != original["metadata"]["uid"] for p in pods()), 30, "a replacement pod")
        events = server.kubectl("get", "events", "-n", "evict", "--field-selector", "reason=TaintManagerEviction", "-o", "json").stdout
        assert original["metadata"]["name"] in events

        agent = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: (lambda n: ready_status(n)["status"] == "True" and not n["spec"].get("taints"))(node()), 30,
                   "Ready again, taints removed")
        server.kubectl("rollout", "status", "deploy/app", "-n", "evict", "--timeout=60s", timeout=70)
        server.kubectl("delete", "namespace", "evict", "--wait=true", timeout=120)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        server.stop()
        subprocess.run([TUG, "reset", "--data-dir", server.data_dir], capture_output=True, timeout=300)
        server.cleanup()
