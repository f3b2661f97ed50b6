"""Workload controllers driven by the real kubectl: Deployments (roll out, forward, back, scale, heal, cascade),
Jobs, StatefulSets, DaemonSets across two nodes, and a pod that cannot fit explaining why."""
import json
import os
import random
import subprocess

from conftest import TUG, Server, free_port, wait_until
from podhelpers import apply, node_ready, wait_pod


def get(s, ns, what, name=None, selector=None):
    args = ["get", what, "-n", ns, "-o", "json"] + ([name] if name else []) + (["-l", selector] if selector else [])
    return json.loads(s.kubectl(*args).stdout)


def items(s, ns, what, selector=None):
    return get(s, ns, what, selector=selector)["items"]


def live_pods(s, ns, selector):
    return [p for p in items(s, ns, "pods", selector) if not p["metadata"].get("deletionTimestamp")]


def rollout(s, ns, what, timeout=120):
    s.kubectl("rollout", "status", what, "-n", ns, f"--timeout={timeout}s", timeout=timeout + 10)


WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
"""


def test_deployment_rolls_out_forward_back_scales_and_heals(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, WEB)
    rollout(s, ns, "deploy/web")
    d = get(s, ns, "deploy", "web")
    assert d["status"]["readyReplicas"] == 3 and d["status"]["updatedReplicas"] == 3
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    conditions = {c["type"]: c for c in d["status"]["conditions"]}
    assert conditions["Available"]["status"] == "True"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    first = items(s, ns, "rs", "app=web")
    assert len(first) == 1 and first[0]["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    first_hash = first[0]["metadata"]["labels"]["pod-template-hash"]
    assert all(p["metadata"]["labels"]["pod-template-hash"] == first_hash for p in live_pods(s, ns, "app=web"))

    # Forward: a new template makes a second ReplicaSet; the first is scaled to zero and kept for history.
    s.kubectl("set", "env", "deploy/web", "-n", ns, "COLOR=blue")
    rollout(s, ns, "deploy/web")
    sets = {rs["metadata"]["labels"]["pod-template-hash"]: rs for rs in items(s, ns, "rs", "app=web")}
    assert len(sets) == 2 and sets[first_hash]["spec"]["replicas"] == 0
    (second_hash,) = [h for h in sets if h != first_hash]
    assert sets[second_hash]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    wait_until(lambda: {p["metadata"]["labels"]["pod-template-hash"] for p in live_pods(s, ns, "app=web")} == {second_hash},
               60, "only new pods left")
    history = s.kubectl("rollout", "history", "deploy/web", "-n", ns).stdout
    assert "1 " in history and "2 " in history
    events = s.kubectl("get", "events", "-n", ns, "--field-selector", "reason=ScalingReplicaSet", "-o", "json").stdout
    assert f"Scaled up replica set web-{second_hash} from 0 to 1" in events

    # Back: undo reuses the first ReplicaSet, which becomes revision 3.
    s.kubectl("rollout", "undo", "deploy/web", "-n", ns)
    rollout(s, ns, "deploy/web")
    sets = {rs["metadata"]["labels"]["pod-template-hash"]: rs for rs in items(s, ns, "rs", "app=web")}
    assert len(sets) == 2
    assert sets[first_hash]["spec"]["replicas"] == 3 and sets[second_hash]["spec"]["replicas"] == 0
    assert sets[first_hash]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    env = get(s, ns, "deploy", "web")["spec"]["template"]["spec"]["containers"][0].get("env")
    assert not env

    # Scale up and down.
    s.kubectl("scale", "deploy/web", "-n", ns, "--replicas=5")
    rollout(s, ns, "deploy/web")
    assert len(live_pods(s, ns, "app=web")) == 5
    s.kubectl("scale", "deploy/web", "-n", ns, "--replicas=2")
    wait_until(lambda: len(live_pods(s, ns, "app=web")) == 2, 60, "scaled down to 2")
    assert get(s, ns, "rs", f"web-{first_hash}")["spec"]["replicas"] == 2

    # Heal: a deleted pod is replaced.
    victim = live_pods(s, ns, "app=web")[0]["metadata"]["name"]
    s.kubectl("delete", "pod", victim, "-n", ns, "--wait=false")
    wait_until(lambda: len(live_pods(s, ns, "app=web")) == 2 and victim not in [p["metadata"]["name"] for p in live_pods(s, ns, "app=web")],
               60, "a replacement pod")
    rollout(s, ns, "deploy/web")


def test_deleting_a_deployment_cascades_and_orphan_keeps_dependents(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, WEB.replace("replicas: 3", "replicas: 2"))
    rollout(s, ns, "deploy/web")
    s.kubectl("delete", "deploy/web", "-n", ns, "--cascade=foreground", "--wait=true", timeout=120)
    wait_until(lambda: not items(s, ns, "rs", "app=web") and not items(s, ns, "pods", "app=web"), 60,
               "ReplicaSets and pods deleted with the Deployment")

    apply(s, ns, WEB.replace("name: web", "name: kept").replace("app: web", "app: kept"))
    rollout(s, ns, "deploy/kept")
    s.kubectl("delete", "deploy/kept", "-n", ns, "--cascade=orphan", "--wait=true", timeout=60)
    (rs,) = items(s, ns, "rs", "app=kept")
    assert not rs["metadata"].get("ownerReferences"), "orphaned ReplicaSet keeps no owner reference"
    assert len(live_pods(s, ns, "app=kept")) == 3
    # Background (kubectl's default) on the ReplicaSet now takes its pods.
    s.kubectl("delete", "rs", rs["metadata"]["name"], "-n", ns)
    wait_until(lambda: not items(s, ns, "pods", "app=kept"), 60, "pods collected after their ReplicaSet went")


def test_jobs_complete_fail_and_run_indexed(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: five}
        spec:
          completions: 5
          parallelism: 2
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox, command: [sh, -c, "echo done"]}]
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: indexed}
        spec:
          completions: 3
          parallelism: 3
          completionMode: Indexed
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox, command: [sh, -c, "echo index=$JOB_COMPLETION_INDEX"]}]
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: broken}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers: [{name: c, image: busybox, command: [sh, -c, "exit 3"]}]
        """)
    s.kubectl("wait", "--for=condition=complete", "job/five", "job/indexed", "-n", ns, "--timeout=120s", timeout=130)
    five = get(s, ns, "job", "five")
    assert five["status"]["succeeded"] == 5 and "failed" not in five["status"]
    assert five["status"]["completionTime"]
    assert len(items(s, ns, "pods", "job-name=five")) == 5
    indexed = get(s, ns, "job", "indexed")
    assert indexed["status"]["completedIndexes"] == "0-2"
    logs = sorted(s.kubectl("logs", p["metadata"]["name"], "-n", ns).stdout.strip() for p in items(s, ns, "pods", "job-name=indexed"))
    assert logs == ["index=0", "index=1", "index=2"]
    # No pod keeps the tracking finalizer once counted.
    assert not [p for p in items(s, ns, "pods") if "batch.kubernetes.io/job-tracking" in p["metadata"].get("finalizers", [])]

    s.kubectl("wait", "--for=condition=failed", "job/broken", "-n", ns, "--timeout=60s", timeout=70)
    failed = next(c for c in get(s, ns, "job", "broken")["status"]["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "BackoffLimitExceeded"
    assert "Job has reached the specified backoff limit" in s.kubectl("describe", "job", "broken", "-n", ns).stdout


def test_statefulset_starts_in_order_with_stable_names_and_storage(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, """
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          clusterIP: None
          selector: {app: db}
          ports: [{port: 80}]
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          serviceName: db
          replicas: 3
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox
                command: [sh, -c, "echo $(hostname) >> /data/boots; exec sleep 3600"]
                volumeMounts: [{name: data, mountPath: /data}]
                readinessProbe: {exec: {command: [cat, /data/boots]}, periodSeconds: 1}
          volumeClaimTemplates:
          - metadata: {name: data}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 1Gi}}
        """)
    rollout(s, ns, "sts/db")
    pods = {p["metadata"]["name"]: p for p in live_pods(s, ns, "app=db")}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    # OrderedReady: each pod was created only after the one before it was Ready.
    ready_at = {name: next(c["lastTransitionTime"] for c in p["status"]["conditions"] if c["type"] == "Ready") for name, p in pods.items()}
    assert pods["db-1"]["metadata"]["creationTimestamp"] >= ready_at["db-0"]
    assert pods["db-2"]["metadata"]["creationTimestamp"] >= ready_at["db-1"]
    assert pods["db-1"]["spec"]["hostname"] == "db-1" and pods["db-1"]["spec"]["subdomain"] == "db"
    assert sorted(c["metadata"]["name"] for c in items(s, ns, "pvc")) == ["data-db-0", "data-db-1", "data-db-2"]

    # A replaced pod keeps its name and its claim's data.
    s.kubectl("delete", "pod", "db-1", "-n", ns)
    rollout(s, ns, "sts/db")
    assert s.kubectl("exec", "db-1", "-n", ns, "--", "cat", "/data/boots").stdout.split() == ["db-1", "db-1"]

    # Scaling down removes the highest ordinal first.
    s.kubectl("scale", "sts/db", "-n", ns, "--replicas=1")
    wait_until(lambda: [p["metadata"]["name"] for p in live_pods(s, ns, "app=db")] == ["db-0"], 60, "only db-0 left")


def test_daemonset_covers_every_node(tmp_path):
    server = Server(agent=True).start()
    agent, agent_dir = None, None
    try:
        wait_until(lambda: node_ready(server), 30, "first node Ready")
        token = open(os.path.join(server.data_dir, "server/node-token")).read().strip()
        log = open(tmp_path / "agent.log", "wb")
        # Its own data dir: the server's embedded agent owns the server's.
        agent_dir = str(tmp_path / "agent")
        agent = subprocess.Popen([TUG, "agent", "--server", f"https://127.0.0.1:{server.port}", "--token", token, "--data-dir", agent_dir,
                                  "--agent-port", str(free_port()), "--node-name", "second",
                                  "--pod-cidr", f"10.42.{random.randint(200, 250)}.0/24"], stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: len(json.loads(server.kubectl("get", "nodes", "-o", "json").stdout)["items"]) == 2 and node_ready(server),
                   30, "second node Ready")
        server.kubectl("create", "namespace", "ds")
        apply(server, "ds", """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: everywhere}
            spec:
              selector: {matchLabels: {app: everywhere}}
              template:
                metadata: {labels: {app: everywhere}}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
            """)
        rollout(server, "ds", "ds/everywhere")
        pods = live_pods(server, "ds", "app=everywhere")
        nodes = sorted(n["metadata"]["name"] for n in json.loads(server.kubectl("get", "nodes", "-o", "json").stdout)["items"])
        assert sorted(p["spec"]["nodeName"] for p in pods) == nodes
        status = get(server, "ds", "ds", "everywhere")["status"]
        assert status["desiredNumberScheduled"] == 2 and status["numberReady"] == 2

        # A NoExecute taint the pods do not tolerate takes the pod off that node.
        server.kubectl("taint", "node", "second", "drain=now:NoExecute")
        wait_until(lambda: [p["spec"]["nodeName"] for p in live_pods(server, "ds", "app=everywhere")] == [n for n in nodes if n != "second"],
                   60, "daemon pod removed from the tainted node")
        server.kubectl("delete", "namespace", "ds", "--wait=true", timeout=120)
    finally:
        if agent:
            agent.terminate()
            agent.wait(timeout=30)
        server.stop()
        for data_dir in [d for d in (agent_dir, server.data_dir) if d]:
            reset = subprocess.run([TUG, "reset", "--data-dir", data_dir], capture_output=True, text=True, timeout=300)
            assert reset.returncode == 0, reset.stderr
        server.cleanup()


def test_a_pod_that_cannot_fit_explains_why(node, pod_namespace):
    s, ns = node, pod_namespace
    apply(s, ns, """
        apiVersion: v1
        kind: Pod
        metadata: {name: huge}
        spec:
          containers:
          - name: c
            image: busybox
            command: [sleep, "3600"]
            resources: {requests: {cpu: "500", memory: 1Ti}}
        """)
    p = wait_pod(s, ns, "huge", lambda p: any(c["type"] == "PodScheduled" and c["status"] == "False" for c in p["status"].get("conditions", [])),
                 30, "unschedulable")
    condition = next(c for c in p["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["reason"] == "Unschedulable"
    assert condition["message"].startswith("0/1 nodes are available: 1 Insufficient cpu")
    assert "FailedScheduling" in s.kubectl("describe", "pod", "huge", "-n", ns).stdout


def test_a_higher_priority_pod_preempts_lower_ones(node, pod_namespace):
    s, ns = node, pod_namespace
    allocatable = json.loads(s.kubectl("get", "nodes", "-o", "json").stdout)["items"][0]["status"]["allocatable"]["cpu"]
    millis = int(allocatable[:-1]) if allocatable.endswith("m") else int(allocatable) * 1000
    share = millis * 4 // 10  # two fillers take 80 % of the node; the important pod needs half
    name = f"{ns}-low"
    s.kubectl("create", "priorityclass", name, "--value=10")
    s.kubectl("create", "priorityclass", f"{ns}-high", "--value=1000")
    try:
        apply(s, ns, f"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {{name: filler}}
            spec:
              replicas: 2
              selector: {{matchLabels: {{app: filler}}}}
              template:
                metadata: {{labels: {{app: filler}}}}
                spec:
                  priorityClassName: {name}
                  terminationGracePeriodSeconds: 1
                  containers: [{{name: c, image: busybox, command: [sleep, "3600"], resources: {{requests: {{cpu: {share}m}}}}}}]
            """)
        rollout(s, ns, "deploy/filler")
        assert all(p["spec"]["priority"] == 10 for p in live_pods(s, ns, "app=filler"))
        apply(s, ns, f"""
            apiVersion: v1
            kind: Pod
            metadata: {{name: vip}}
            spec:
              priorityClassName: {ns}-high
              terminationGracePeriodSeconds: 1
              containers: [{{name: c, image: busybox, command: [sleep, "3600"], resources: {{requests: {{cpu: {millis // 2}m}}}}}}]
            """)
        vip = wait_pod(s, ns, "vip", lambda p: p["status"].get("phase") == "Running", 60, "Running after preemption")
        assert vip["spec"]["priority"] == 1000 and vip["status"].get("nominatedNodeName")
        preempted = json.loads(s.kubectl("get", "events", "-n", ns, "--field-selector", "reason=Preempted", "-o", "json").stdout)["items"]
        assert len(preempted) == 1, "one filler pod makes enough room"
        # The filler's replacement waits: the room is the important pod's now.
        wait_until(lambda: any("Insufficient cpu" in (c.get("message") or "") for p in live_pods(s, ns, "app=filler")
                               for c in p["status"].get("conditions", []) if c["type"] == "PodScheduled"), 30, "replacement unschedulable")
        forbidden = s.kubectl("run", "nope", "-n", ns, "--image=busybox", "--overrides", json.dumps({"spec": {"priorityClassName": "no-such-class"}}), check=False)
        assert forbidden.returncode != 0 and "no PriorityClass with name no-such-class was found" in forbidden.stderr
    finally:
        s.kubectl("delete", "priorityclass", name, f"{ns}-high", check=False)
